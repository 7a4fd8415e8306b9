package bot

import "strings"

// Message is what kring says, independent of any platform. Text is the
// plain fallback (notifications, screen readers, the shell's first line);
// Blocks carry the layout. Text inside blocks uses a small markdown subset:
// *bold*, _italic_, [label](url), and lines starting with "- " for lists.
// User-supplied text must pass through Escape before it goes into a
// message, so adapters can trust every '*' and '[' they see.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks,omitempty"`
}

// Block is one part of a message's layout: Header, Section, Context,
// Divider or Buttons. Adapters switch on the concrete type.
type Block interface{ block() }

// Header is a title line.
type Header struct {
	Text string `json:"header"`
}

// Section is a paragraph of markdown text, optionally with short fields
// shown side by side (label/value pairs on platforms that have them).
type Section struct {
	Text   string  `json:"section"`
	Fields []Field `json:"fields,omitempty"`
}

// Field is a short labelled value within a Section.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Context is a line of small print: who made it, when it closes.
type Context struct {
	Text string `json:"context"`
}

// Divider is a horizontal rule.
type Divider struct{}

// Buttons is a row of buttons.
type Buttons struct {
	Buttons []Button `json:"buttons"`
}

func (Header) block()  {}
func (Section) block() {}
func (Context) block() {}
func (Divider) block() {}
func (Buttons) block() {}

// Style is how a button looks.
type Style string

// Button styles.
const (
	Default Style = ""
	Primary Style = "primary"
	Danger  Style = "danger"
)

// Button is a clickable action. ID routes it (by prefix) to a feature; Value
// tells the feature which thing was clicked. Both are short ASCII.
type Button struct {
	ID      string   `json:"id"`
	Label   string   `json:"label"`
	Value   string   `json:"value,omitempty"`
	Style   Style    `json:"style,omitempty"`
	Confirm *Confirm `json:"confirm,omitempty"`
}

// Confirm asks "are you sure?" before a button's action is sent.
type Confirm struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	Yes   string `json:"yes"`
	No    string `json:"no"`
}

// Form is a dialog (a Slack modal, a Mattermost interactive dialog, a
// prompt in the shell). On submit the Mux receives an Action with ID, Value
// set to State and Form holding the inputs' values.
type Form struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Submit string  `json:"submit"`
	State  string  `json:"state,omitempty"`
	Inputs []Input `json:"inputs"`
}

// InputKind is the kind of a form input.
type InputKind string

// Input kinds.
const (
	Text        InputKind = "text"
	LongText    InputKind = "long_text"
	Select      InputKind = "select"
	MultiSelect InputKind = "multi_select"
	UserPicker  InputKind = "user"
	Date        InputKind = "date" // YYYY-MM-DD
)

// Input is one field of a Form.
type Input struct {
	Name        string    `json:"name"`
	Label       string    `json:"label"`
	Kind        InputKind `json:"kind"`
	Placeholder string    `json:"placeholder,omitempty"`
	Hint        string    `json:"hint,omitempty"`
	Value       string    `json:"value,omitempty"` // initial value
	Optional    bool      `json:"optional,omitempty"`
	MaxLength   int       `json:"max_length,omitempty"`
	Options     []Option  `json:"options,omitempty"` // for Select and MultiSelect
}

// Option is one choice of a select input.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// File is a document to hand to users, such as a CSV export.
type File struct {
	Name    string // "peiling-ab12cd.csv"
	Title   string
	Type    string // MIME type, "text/csv"
	Content []byte
}

// Text is the file's content to show as text where it cannot be attached:
// valid UTF-8 (a bad byte becomes U+FFFD) without the byte order mark a
// spreadsheet wants at the start of a file.
func (f File) Text() string {
	return strings.TrimPrefix(strings.ToValidUTF8(string(f.Content), "\uFFFD"), "\uFEFF")
}

// Buttons returns every button of m in order of appearance.
func (m Message) Buttons() []Button {
	var out []Button
	for _, b := range m.Blocks {
		if row, ok := b.(Buttons); ok {
			out = append(out, row.Buttons...)
		}
	}
	return out
}
