"""Template packs: a team's own templates, variables and presets (docs/templates.md)."""
