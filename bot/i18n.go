package bot

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Locales kring speaks, the default first.
var Locales = []string{"nl", "en"}

// DefaultLocale is the language of a workspace that chose none.
const DefaultLocale = "nl"

var (
	catalogMu sync.RWMutex
	catalog   = newCatalog()
	loaded    = map[string]map[string]bool{} // locale → message ids
	// translators are made once per locale: a Localizer is read-only and
	// making one costs more than a click. LoadMessages clears them.
	translators = map[string]Tr{}
)

func newCatalog() *i18n.Bundle {
	b := i18n.NewBundle(language.Dutch)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	return b
}

// LoadMessages adds every *.toml message file in dir of fsys to the
// catalogue; a file is named after its locale ("nl.toml", "en.toml"). Each
// package that speaks to users calls it once, at init, with its embedded
// files. It panics on a broken file: that is a build defect, not a runtime
// condition.
func LoadMessages(fsys fs.FS, dir string) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil || len(names) == 0 {
		panic(fmt.Sprintf("bot: no message files in %s", dir))
	}
	catalogMu.Lock()
	defer catalogMu.Unlock()
	clear(translators)
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		mf, err := catalog.ParseMessageFileBytes(data, path.Base(name))
		if err != nil {
			panic(fmt.Sprintf("bot: message file %s: %v", name, err))
		}
		locale, _ := mf.Tag.Base()
		if loaded[locale.String()] == nil {
			loaded[locale.String()] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			if loaded[locale.String()][m.ID] {
				panic(fmt.Sprintf("bot: message %s defined twice for %s", m.ID, locale))
			}
			loaded[locale.String()][m.ID] = true
		}
	}
}

// MessageIDs lists the message ids the catalogue holds for a locale, so a
// test can check that every locale has every message.
func MessageIDs(locale string) []string {
	catalogMu.RLock()
	defer catalogMu.RUnlock()
	out := make([]string, 0, len(loaded[locale]))
	for id := range loaded[locale] {
		out = append(out, id)
	}
	return out
}

// UserLocale reads a platform's user locale ("nl", "en", "en-US", "nl_NL",
// "pt-br") and says which of kring's languages it is, if any.
func UserLocale(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	for _, l := range Locales {
		if s == l {
			return l, true
		}
	}
	return "", false
}

// ParseLocale reads a language as a user types it: "nl", "Nederlands",
// "en", "English", "engels".
func ParseLocale(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nl", "nederlands", "dutch", "nld":
		return "nl", true
	case "en", "english", "engels", "eng":
		return "en", true
	}
	return "", false
}

// Tr translates message ids into one locale.
type Tr struct {
	Locale string
	l      *i18n.Localizer
}

// T returns a translator for locale, falling back to Dutch for any message
// the locale lacks.
func T(locale string) Tr {
	if locale == "" {
		locale = DefaultLocale
	}
	catalogMu.RLock()
	t, ok := translators[locale]
	catalogMu.RUnlock()
	if ok {
		return t
	}
	catalogMu.Lock()
	defer catalogMu.Unlock()
	t = Tr{Locale: locale, l: i18n.NewLocalizer(catalog, locale, DefaultLocale)}
	if len(translators) < 64 { // locales are few; a flood of odd ones is not kept
		translators[locale] = t
	}
	return t
}

// S translates id; kv are template data as name, value pairs:
// tr.S("poll.closed_by", "Name", "Anna").
func (t Tr) S(id string, kv ...any) string {
	return t.localize(id, nil, kv)
}

// N translates id with its plural form chosen by count; the template sees
// the count as .Count.
func (t Tr) N(id string, count int, kv ...any) string {
	return t.localize(id, count, append(kv, "Count", count))
}

func (t Tr) localize(id string, count any, kv []any) string {
	data := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		data[fmt.Sprint(kv[i])] = kv[i+1]
	}
	catalogMu.RLock()
	defer catalogMu.RUnlock()
	s, err := t.l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		return "⟦" + id + "⟧"
	}
	return s
}
