"""The fields of a dashboard form post, read with a size cap: ``application/x-www-form-urlencoded``
(what htmx sends for a form) or ``multipart/form-data`` (a form with a file input), parsed with the
standard library (the project has no python-multipart).

``FormDep`` is an async dependency, so a page's route can stay a plain function (run in the thread
pool, where its database work belongs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request

MAX_FORM_BYTES = 11 * 1024 * 1024  # a 10 MB CSV file and its multipart envelope


@dataclass(frozen=True)
class FormFields:
    """Text fields by name (the last value wins) and uploaded files by name (their bytes)."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def text(self, name: str) -> str:
        """The field's text, stripped ("" when absent)."""
        return self.fields.get(name, "").strip()


def parse_urlencoded(body: bytes) -> FormFields:
    """A urlencoded body's fields. Pure."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8") from None
    return FormFields(dict(parse_qsl(text, keep_blank_values=True)))


def parse_multipart(body: bytes, content_type: str) -> FormFields:
    """A multipart/form-data body's text fields and files. Pure."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise HTTPException(400, "the form is not multipart")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = data
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return FormFields(fields, files)


async def form_fields(request: Request) -> FormFields:
    """The request's form (413 beyond MAX_FORM_BYTES, 415 for another content type)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, f"the form is larger than {MAX_FORM_BYTES // (1024 * 1024)} MB")
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return parse_urlencoded(bytes(body))
    if kind == "multipart/form-data":
        return parse_multipart(bytes(body), content_type)
    raise HTTPException(415, "send the form as application/x-www-form-urlencoded or multipart/form-data")


FormDep = Annotated[FormFields, Depends(form_fields)]
