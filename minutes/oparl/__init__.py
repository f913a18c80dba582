"""Open data: an OParl 1.1 API (`/oparl/v1/`) and Popolo vote events (`/popolo/`).

- `common`: time stamps, the date filters, pagination and JSON errors.
- `queries`: what each list holds (visibility in SQL), how it is loaded, and the
  deleted objects (from the audit trail).
- `serializers`: the OParl objects; `popolo`: vote events and the votes summary.
- `views`: the blueprint; `openapi.json`: the API described in OpenAPI 3.1.

Everything follows `meetings.visibility`: closed items by number and name only, agendas
once public, votes, decisions, remarks and minutes once published. See docs/open-data.md.
"""
