package slack

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kringbot/kring/bot"
	"github.com/slack-go/slack"
)

// Limits Slack puts on a modal.
const (
	maxModalTitle    = 24
	maxModalButton   = 24
	maxModalBlocks   = 100
	maxMetadata      = 3000
	maxLabel         = 2000
	maxPlaceholder   = 150
	maxOptions       = 100
	maxOptionText    = 75
	maxOptionValue   = 150
	maxInputLength   = 3000
	inputActionID    = "value"
	defaultCallback  = "kring.form"
	formStateVersion = 1
)

// formState travels in a modal's private_metadata, so the submission knows
// which conversation it belongs to and the feature gets its state back.
type formState struct {
	V     int       `json:"v"`
	Where bot.Where `json:"w"`
	State string    `json:"s,omitempty"`
}

// renderModal turns f into a Slack modal, in the workspace's language for
// the words kring adds (Cancel).
func renderModal(f bot.Form, where bot.Where, locale string) (slack.ModalViewRequest, error) {
	meta, err := json.Marshal(formState{V: formStateVersion, Where: where, State: f.State})
	if err != nil {
		return slack.ModalViewRequest{}, fmt.Errorf("form %s: encode state: %w", f.ID, err)
	}
	if len(meta) > maxMetadata {
		return slack.ModalViewRequest{}, fmt.Errorf("form %s: state of %d bytes exceeds Slack's %d", f.ID, len(meta), maxMetadata)
	}
	tr := bot.T(locale)
	submit := f.Submit
	if submit == "" {
		submit = tr.S("slack.form.submit")
	}
	callback := f.ID
	if callback == "" {
		callback = defaultCallback
	}
	var blocks []slack.Block
	for _, in := range f.Inputs {
		if len(blocks) == maxModalBlocks {
			break
		}
		blocks = append(blocks, renderInput(in))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain(short(f.Title, maxModalTitle)),
		Submit:          plain(short(submit, maxModalButton)),
		Close:           plain(short(tr.S("slack.form.cancel"), maxModalButton)),
		CallbackID:      callback,
		PrivateMetadata: string(meta),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}, nil
}

func short(s string, n int) string {
	t := bot.Truncate(oneLine(bot.PlainText(s)), n)
	if t == "" {
		return "kring"
	}
	return t
}

func renderInput(in bot.Input) *slack.InputBlock {
	var placeholder *slack.TextBlockObject
	if in.Placeholder != "" {
		placeholder = plain(short(in.Placeholder, maxPlaceholder))
	}
	var el slack.BlockElement
	switch in.Kind {
	case bot.LongText, bot.Text:
		t := slack.NewPlainTextInputBlockElement(placeholder, inputActionID)
		t.Multiline = in.Kind == bot.LongText
		t.InitialValue = in.Value
		t.MaxLength = maxInputLength
		if in.MaxLength > 0 && in.MaxLength < maxInputLength {
			t.MaxLength = in.MaxLength
		}
		el = t
	case bot.Select:
		opts := options(in.Options)
		s := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder, inputActionID, opts...)
		for _, o := range opts {
			if o.Value == in.Value {
				s.InitialOption = o
			}
		}
		el = s
	case bot.MultiSelect:
		opts := options(in.Options)
		s := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeStatic, placeholder, inputActionID, opts...)
		initial := map[string]bool{}
		for _, v := range strings.Split(in.Value, ",") {
			initial[strings.TrimSpace(v)] = true
		}
		for _, o := range opts {
			if initial[o.Value] {
				s.InitialOptions = append(s.InitialOptions, o)
			}
		}
		el = s
	case bot.UserPicker:
		s := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, placeholder, inputActionID)
		s.InitialUser = in.Value
		el = s
	case bot.Date:
		d := slack.NewDatePickerBlockElement(inputActionID)
		d.Placeholder = placeholder
		d.InitialDate = in.Value
		el = d
	default:
		el = slack.NewPlainTextInputBlockElement(placeholder, inputActionID)
	}
	var hint *slack.TextBlockObject
	if in.Hint != "" {
		hint = plain(bot.Truncate(bot.PlainText(in.Hint), maxLabel))
	}
	b := slack.NewInputBlock(in.Name, plain(short(in.Label, maxLabel)), hint, el)
	b.Optional = in.Optional
	return b
}

func options(in []bot.Option) []*slack.OptionBlockObject {
	out := make([]*slack.OptionBlockObject, 0, min(len(in), maxOptions))
	for _, o := range in {
		if len(out) == maxOptions {
			break
		}
		v := o.Value
		if len(v) > maxOptionValue {
			v = v[:maxOptionValue]
		}
		out = append(out, slack.NewOptionBlockObject(v, plain(short(o.Label, maxOptionText)), nil))
	}
	return out
}

// formValues reads a view submission's inputs by name (the block id).
func formValues(state *slack.ViewState) bot.Values {
	vals := bot.Values{}
	if state == nil {
		return vals
	}
	for name, byAction := range state.Values {
		for _, a := range byAction {
			switch {
			case a.Type == slack.ActionType("multi_static_select") || len(a.SelectedOptions) > 0:
				for _, o := range a.SelectedOptions {
					vals[name] = append(vals[name], o.Value)
				}
			case a.SelectedOption.Value != "":
				vals[name] = append(vals[name], a.SelectedOption.Value)
			case a.SelectedUser != "":
				vals[name] = append(vals[name], a.SelectedUser)
			case a.SelectedDate != "":
				vals[name] = append(vals[name], a.SelectedDate)
			case a.Value != "":
				vals[name] = append(vals[name], a.Value)
			}
		}
	}
	return vals
}

// decodeFormState reads what renderModal put in private_metadata.
func decodeFormState(meta string) (formState, error) {
	var fs formState
	if err := json.Unmarshal([]byte(meta), &fs); err != nil {
		return formState{}, fmt.Errorf("decode private_metadata: %w", err)
	}
	if fs.V != formStateVersion || fs.Where.Platform != bot.Slack {
		return formState{}, fmt.Errorf("private_metadata is not kring's form state")
	}
	return fs, nil
}
