package bot

import "embed"

//go:embed locales/*.toml
var locales embed.FS

func init() { LoadMessages(locales, "locales") }
