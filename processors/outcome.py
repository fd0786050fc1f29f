"""What a rule did with one input, for its stage to hand on.

Every stateful rule (processors.*.rules, appeals, decisions) returns an `Outcome`: the records to
send, each with its topic; the input events it refused while keeping other state (the stage sends
each as a kept dead letter with its reason); a label saying what happened, which the stage counts;
and how many events it newly held for a later one (> 0) or released (< 0). The state changes
themselves are in the store the rule was given (processors.state).

Pure: standard library and schemas.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from schemas.topics import Topic


@dataclass
class Outcome:
    records: list[tuple[Topic, dict]] = field(default_factory=list)
    label: str = ""  # e.g. matched | waiting | duplicate | proposed (the stage's counter)
    rejected: list[tuple[dict, str]] = field(default_factory=list)  # (event, reason)
    held: int = 0  # events newly held (> 0) or released by the one they waited for (< 0)

    def of(self, topic: Topic) -> list[dict]:
        """The records for `topic`, in order."""
        return [rec for t, rec in self.records if t == topic]
