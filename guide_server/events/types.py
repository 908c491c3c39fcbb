"""The widget's event vocabulary: every event type, what each must carry, and the stuck signals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    tour: bool = False  # tour + version required
    step: bool = False  # step id required
    step_index: bool = False


TYPES: dict[str, Rule] = {
    "tour_started": Rule(tour=True),
    "step_shown": Rule(tour=True, step=True, step_index=True),
    "step_completed": Rule(tour=True, step=True, step_index=True),
    "tour_completed": Rule(tour=True),
    "tour_dismissed": Rule(tour=True, step=True, step_index=True),
    "target_missing": Rule(tour=True, step=True),
    "checklist_started": Rule(),
    "checklist_task_completed": Rule(),
    "checklist_completed": Rule(),
    "chat_opened": Rule(),
    "question_asked": Rule(),
    "answer_feedback": Rule(),
    "answer_opened": Rule(),  # props: question_id, faq_id, which (source | suggestion | related), rank (suggestion, related: from 0)
    "escalation_offered": Rule(),
    "escalation_taken": Rule(),
    "nps_answered": Rule(),
    "nps_later": Rule(),
    "nps_dismissed": Rule(),
    "widget_error": Rule(),
    # stuck signals, detected in the browser
    "idle": Rule(tour=True, step=True),
    "rage_click": Rule(),
    "back_forth": Rule(tour=True, step=True),
    "page_left": Rule(tour=True, step=True),
}

# The events that say a user may be stuck on the step they carry: the review desk counts them per
# step (analytics.tours) and shows one column each.
SIGNALS = ("idle", "rage_click", "back_forth", "question_asked", "chat_opened", "page_left", "target_missing")
