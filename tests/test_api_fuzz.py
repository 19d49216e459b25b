"""Fuzzing the JSON API with schemathesis against its own OpenAPI document: no input may cause a 5xx.

Runs as a coordinator on a database with the demo data, so the generated ids often hit real walks,
findings and action items. `make fuzz` runs it with more examples per operation.
"""

import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings

from fieldwalk.extensions import db
from fieldwalk.seed import DEMO_PASSWORD, seed_demo

EXAMPLES = int(os.environ.get("FIELDWALK_FUZZ_EXAMPLES", "15"))


def test_no_input_makes_a_server_error(app):
    with app.app_context():
        seed_demo()
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"email": "samordnare@example.com", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    failures, statuses = [], Counter()

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            # The document's security schemes make schemathesis invent a session cookie and a CSRF header;
            # drop them so the logged-in client's own cookie counts (CSRF is off in tests).
            if case.cookies:
                case.cookies.pop(app.config["SESSION_COOKIE_NAME"], None)
            if case.headers:
                case.headers.pop("X-CSRFToken", None)
            response = case.call(session=client)  # the logged-in test client; an exception fails the test
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.body, response.text[:300]))

        call()
    assert failures == []
    assert statuses[200] > 0 and statuses[401] == 0, statuses  # logged in, and real objects were reached
