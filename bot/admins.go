package bot

import "strings"

// Admins are the users allowed to manage what others made (close or delete
// anyone's poll). An entry is "platform:id" or a bare id, which matches on
// every platform.
type Admins map[string]bool

// ParseAdmins reads a comma-separated list such as "slack:U024BE7LH,anna".
func ParseAdmins(s string) Admins {
	a := Admins{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			a[f] = true
		}
	}
	return a
}

// Is reports whether the user id on platform is an admin.
func (a Admins) Is(platform, id string) bool {
	return a[id] || a[platform+":"+id]
}
