"""A first walk through the API over real HTTP, on SQLite and PostgreSQL."""

from tests.support import LiveServer

OPEN = {
    "crn": "X123456",
    "person": {"name": "Jo Bloggs", "date_of_birth": "1990-01-02"},
    "sentence_type": "community_order",
    "start_date": "2026-01-05",
    "expected_end_date": "2027-01-05",
    "pdu": "SHF",
    "team": "T1",
    "occurred_at": "2026-01-05T09:00:00Z",
}


def test_open_case_answers_201_with_location_and_etag(server: LiveServer) -> None:
    with server.client("po1", "practitioner", teams=("T1",)) as client:
        response = client.post("/cases", json=OPEN)
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"/cases/{body['case_id']}"
        assert response.headers["etag"] == '"1"'
        assert body["version"] == 1
        assert body["position"] >= 1
        case = client.get(response.headers["location"])
        assert case.status_code == 200
        assert case.json()["crn"] == "X123456"
        assert case.headers["etag"] == '"1"'
