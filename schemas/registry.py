"""A client of the Confluent Schema Registry REST API (the `ccompat` API of Apicurio, Karapace...).

Subjects follow TopicNameStrategy: `<topic>-value`. Only the standard library: every process that
encodes or decodes may use it, and it must not pull in a web stack.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"schema registry answered {status}: {message}")
        self.status = status


def subject(topic_name: str) -> str:
    return f"{topic_name}-value"


class Registry:
    def __init__(self, url: str, timeout_s: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": CONTENT_TYPE,
                                                  "Accept": CONTENT_TYPE})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as failure:
            text = failure.read().decode(errors="replace")
            try:
                text = json.loads(text).get("message", text)
            except (ValueError, AttributeError):
                pass
            raise RegistryError(failure.code, text) from None

    @staticmethod
    def _quote(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    def register(self, subject_name: str, schema: dict) -> int:
        """Register (or find) `schema` under the subject; return its global id."""
        body = {"schema": json.dumps(schema, separators=(",", ":"))}
        return int(self._call("POST", f"/subjects/{self._quote(subject_name)}/versions", body)["id"])

    def lookup(self, subject_name: str, schema: dict) -> int | None:
        """The id of `schema` if it is a version of the subject, else None."""
        body = {"schema": json.dumps(schema, separators=(",", ":"))}
        try:
            return int(self._call("POST", f"/subjects/{self._quote(subject_name)}", body)["id"])
        except RegistryError as failure:
            if failure.status == 404:
                return None
            raise

    def schema_by_id(self, schema_id: int) -> dict:
        return json.loads(self._call("GET", f"/schemas/ids/{int(schema_id)}")["schema"])

    def compatible(self, subject_name: str, schema: dict) -> bool:
        """Whether `schema` may become the subject's next version (True for a new subject)."""
        body = {"schema": json.dumps(schema, separators=(",", ":"))}
        try:
            answer = self._call("POST", f"/compatibility/subjects/{self._quote(subject_name)}"
                                        "/versions/latest", body)
        except RegistryError as failure:
            if failure.status == 404:
                return True
            raise
        return bool(answer.get("is_compatible"))

    def set_compatibility(self, level: str, subject_name: str | None = None) -> None:
        path = "/config" if subject_name is None else f"/config/{self._quote(subject_name)}"
        self._call("PUT", path, {"compatibility": level})

    def subjects(self) -> list[str]:
        return list(self._call("GET", "/subjects"))
