"""Privacy primitives: redaction of writers' data and of other people's names.

Imports only the core; used by the reports and the site builder alike."""
