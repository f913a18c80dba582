"""Every operation of the open-data API, fuzzed with schemathesis from the OpenAPI
document the app serves: no request, however odd, gets a 5xx, and every answer matches the
document (status codes, content type, response schema).

Left out: schemathesis's check that every schema-valid request is accepted. A date range
whose start is after its end is schema-valid parameter by parameter, and the API answers
it with a 400 and a message, as it should (tests/minutes/test_oparl.py)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

EXAMPLES = 25


def test_every_operation_answers_by_its_document(app, published_demo):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25
    requests = 0

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers(case) -> None:
            nonlocal requests
            requests += 1
            response = case.call()
            assert response.status_code < 500, (case.path, case.query, response.text[:300])
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        answers()
    assert requests >= len(operations)
