"""One marshmallow schema per resource of api.md: what a request may carry (validated before the
handler runs, unknown keys refused) and what an answer holds (documented; the services build it)."""
