"""How undo talks to Visma (:mod:`importer.undo.run`): one client, whose token
asks for more scopes only when a step needs them; reads that give a
document and its ETag; actions' answers, background requests followed, and
documents watched until Visma has done what it does in the background."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from importer.codes import http_code, message
from importer.doctypes import DocType
from importer.errors import AuthError, JournalError
from importer.settings import Connection
from importer.targets.client import RateLimited, VismaClient, json_of, scopes


class Stop(Exception):
    """The undo cannot go on (credentials refused, a rate limit beyond
    ``max_wait``, the journal lost): the documents left are not undone."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


class StepFailed(Exception):
    """One step failed with a clear answer (or none: ``keep`` the step's
    state under way, so that the next undo looks at what became of it)."""

    def __init__(self, code: str, text: str, keep: bool = False) -> None:
        super().__init__(text)
        self.code = code
        self.keep = keep


@dataclass
class Doc:
    """A document as Visma shows it now, and its ETag."""

    body: dict[str, Any]
    etag: str


class Calls:
    """The calls of one undo, with one client (``client``, or one made on
    first use): :class:`Stop` when Visma refuses the credentials or asks for
    too long a wait, :class:`StepFailed` when it refuses a step."""

    def __init__(
        self,
        connection: Connection,
        client: VismaClient | None,
        *,
        timeout: float,
        max_wait: float,
        wait: float,
        poll: float,
        stop: threading.Event,
    ) -> None:
        self.connection = connection
        self.timeout = timeout
        self.max_wait = max_wait
        self.wait = wait  # seconds a step Visma does in the background may take
        self.poll = poll  # the longest pause between looks at it
        self.stop = stop
        self._client = client
        self._own_client = client is None
        self._granted: set[str] = {"read"}
        self._calls_before = client.calls if client is not None else 0

    @property
    def client(self) -> VismaClient:
        if self._client is None:
            self._client = VismaClient(
                self.connection,
                workers=1,
                timeout=self.timeout,
                max_wait=self.max_wait,
                scope=self.connection.scope or scopes(*self._granted),
            )
        return self._client

    def allow(self, needs: set[str]) -> None:
        """A token with the scopes a step needs (the delete scope only for a
        DELETE), unless the connection fixes its scopes."""
        if self.connection.scope or needs <= self._granted:
            return
        self._granted |= needs
        client = self._client
        if client is not None:  # else it is made with them
            client.scope = scopes(*self._granted)
            self.guard(lambda: client.token(renew=True))

    def guard(self, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except AuthError as exc:
            raise Stop(exc.code, str(exc)) from None
        except RateLimited as exc:
            raise Stop(exc.code, str(exc)) from None
        except JournalError as exc:  # deleted or replaced while undo works
            raise Stop(exc.code, str(exc)) from None

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        reply = self.guard(lambda: self.client.call(method, path, **kw))
        assert isinstance(reply, requests.Response)
        return reply

    def close(self) -> int:
        if self._client is None:
            return 0
        calls = self._client.calls - self._calls_before
        if self._own_client:
            self._client.session.close()
        return calls

    def if_match(self, doctype: DocType, now: Doc) -> dict[str, str]:
        """Visma refuses the step (412) if the document changed since it was read."""
        return {"If-Match": now.etag} if doctype.etag and now.etag else {}

    def read(self, doctype: DocType, number: str) -> Doc | None:
        reply = self.request("GET", self.path(doctype.endpoint("get")[1], number, {}))
        if reply.status_code == 404:
            return None
        if reply.status_code != 200:
            raise StepFailed(
                http_code(reply.status_code),
                f"reading {number}: {reply.status_code} {self.client.explain(reply)}",
            )
        return Doc(json_of(reply, dict, f"reading {number}"), reply.headers.get("ETag", ""))

    def path(self, template: str, number: str, doc: dict[str, Any]) -> str:
        """``template`` with ``{number}`` and any ``{field}`` of the document filled in."""
        path = template.replace("{number}", quote(number, safe=""))
        for name, value in doc.items():
            if f"{{{name}}}" in path and isinstance(value, (str, int)):
                path = path.replace(f"{{{name}}}", quote(str(value), safe=""))
        return path

    def refused(self, step: str, reply: requests.Response) -> StepFailed:
        detail = f"{reply.status_code} {self.client.explain(reply)}"
        return StepFailed(
            http_code(reply.status_code), message("undo-refused", step=step, detail=detail)
        )

    def action_result(self, reply: requests.Response, step: str) -> dict[str, Any]:
        """An action's 200 answer; a ``Failed`` one is the step's failure."""
        answer: dict[str, Any] = json_of(reply, dict, f"the {step}")
        if answer.get("actionResult") == "Failed":
            detail = answer.get("errorInfo") or "Visma gave no reason"
            raise StepFailed("http-400", message("undo-refused", step=step, detail=detail))
        return answer

    def follow(self, reply: requests.Response, step: str) -> dict[str, Any]:
        """A step Visma took as a background request (202): its state,
        followed until it is finished. A failed one is the step's failure; one
        still going after ``wait`` leaves the step under way."""
        where = json_of(reply, dict, f"the {step}").get("stateLocation")
        waited = 0.0
        while where:
            seen = self.request("GET", str(where))
            if seen.status_code != 200:
                break  # the state is gone (410 after a day): the document says
            state: dict[str, Any] = json_of(seen, dict, f"the state of the {step}")
            if state.get("status") == "Failed":
                detail = state.get("errorMessage") or "Visma gave no reason"
                raise StepFailed("http-400", message("undo-refused", step=step, detail=detail))
            if state.get("status") == "Finished":
                return state
            waited = self.pause(waited, step, keep=True)
        return {}

    def content(self, state: dict[str, Any], step: str) -> dict[str, Any]:
        """What a finished background request answered."""
        where = state.get("contentLocation")
        if not where:
            return {}
        reply = self.request("GET", str(where))
        if reply.status_code != 200:
            return {}
        answer: dict[str, Any] = json_of(reply, dict, f"the answer to the {step}")
        return answer

    def until(
        self,
        doctype: DocType,
        number: str,
        done: Callable[[dict[str, Any] | None], bool],
        step: str,
        keep: bool = True,
    ) -> Doc | None:
        """Look at the document until ``done`` says so (Visma does the step
        in the background); past ``wait``, the step stays under way."""
        waited = 0.0
        while True:
            seen = self.read(doctype, number)
            if done(seen.body if seen else None):
                return seen
            waited = self.pause(waited, step, keep=keep)

    def pause(self, waited: float, step: str, keep: bool) -> float:
        """Wait before the next look (a tenth of a second first, then twice
        as long each time up to ``poll``); past ``wait``, or when undo is
        stopped, the step stays under way. The seconds waited so far."""
        if waited >= self.wait:
            raise StepFailed("undo-pending", self.pending(step), keep=keep)
        pause = min(self.poll, max(0.1, waited), self.wait - waited)
        if self.stop.wait(pause):
            raise StepFailed("undo-pending", self.pending(step), keep=keep)
        return waited + pause

    def pending(self, step: str) -> str:
        return message("undo-pending", step=step, seconds=f"{self.wait:g}")
