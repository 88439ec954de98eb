"""Reading a dashboard form: urlencoded and multipart bodies, a size cap, other content types refused."""

from __future__ import annotations

from engine.api.ui import form_body
from engine.api.ui.form_body import parse_multipart, parse_urlencoded
from tests.engine.api.ui.conftest import WRITE_HEADERS


def test_multipart_bodies_give_text_fields_and_files():
    body = (b"--XX\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"a.csv\"\r\n"
            b"Content-Type: text/csv\r\n\r\ncompany,role\r\nA,B\r\n"
            b"--XX\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhej\r\n--XX--\r\n")
    form = parse_multipart(body, "multipart/form-data; boundary=XX")
    assert form.files == {"csv": b"company,role\r\nA,B"} and form.text("note") == "hej"


def test_urlencoded_bodies_keep_blank_fields_and_strip_text():
    form = parse_urlencoded(b"company=+Caf%C3%A9+&role=&notes=a%26b")
    assert form.text("company") == "Café" and form.text("role") == "" and form.text("notes") == "a&b"
    assert form.text("missing") == ""


def test_a_form_over_the_cap_or_of_another_type_is_refused(visitor, login, engine, monkeypatch):
    monkeypatch.setattr(form_body, "MAX_FORM_BYTES", 100)
    login(visitor)
    big = visitor.post("/ui/applications", headers=WRITE_HEADERS, data={"company": "x" * 200, "role": "r"})
    assert big.status_code == 413 and "larger than" in big.text
    json_body = visitor.post("/ui/applications", headers=WRITE_HEADERS, json={"company": "x", "role": "r"})
    assert json_body.status_code == 415
