"""Every Slack id the bot names: modal callbacks, button and menu actions, blocks and form
fields. Listeners register on these and blocks build with them, so the two cannot drift.

The values are what Slack sends back; changing one breaks buttons on messages already posted
and modals already open, so a value is renamed only with care.
"""

from __future__ import annotations

from enum import StrEnum


class Callback(StrEnum):
    """`callback_id` of each modal (the submission is routed on it)."""

    OBJECTIVE_NEW = "objective_new"
    KEY_RESULT_NEW = "key_result_new"
    OBJECTIVE_EDIT = "objective_edit"
    KEY_RESULT_EDIT = "key_result_edit"
    TEAM_SETUP = "team_setup"
    SETTINGS = "workspace_settings"
    CHECKIN = "checkin"
    GRADING = "grading"
    RETRO_ANSWER = "retro_answer"
    CARRY_ADJUST = "carry_adjust"


class Action(StrEnum):
    """`action_id` of buttons and of menus whose options the bot serves."""

    ARCHIVE_CONFIRM = "okr.archive.confirm"
    ARCHIVE_CANCEL = "okr.archive.cancel"
    HOME_NEW_OBJECTIVE = "home.new_objective"
    HOME_CHECKIN = "home.checkin"
    HOME_TREE = "home.tree"
    HOME_KEY_RESULT = "home.key_result"  # a key result's "History": its page in a modal
    KEY_RESULT_OLDER = "okr.key_result.older"  # a key result's page: older check-ins
    KEY_RESULT_NEWER = "okr.key_result.newer"  # ... and newer ones
    CHECKIN_FROM_PROMPT = "checkin_from_prompt"
    PARENT_OPTIONS = "parent"  # external_select: objectives of the cycle
    TEAM_OPTIONS = "team"  # external_select: teams, when there are too many to list
    GRADING_OPEN = "grading.open"  # the grading DM's button: the grading modal
    RETRO_VOTE = "retro.vote"  # a retro poll's rating buttons: `retro.vote.<1-5>`
    RETRO_ANSWER = "retro.answer"  # a retro poll's button: the answer modal
    CARRY_KEEP = "carry.keep"  # a carry-over offer's buttons
    CARRY_ADJUST = "carry.adjust"
    CARRY_DROP = "carry.drop"
    CARRY_CREATE_CYCLE = "carry.create_cycle"  # the facilitators' "create the next cycle"


class Block(StrEnum):
    """`block_id` of action blocks a click comes from."""

    ARCHIVE = "archive"
    HOME_ACTIONS = "home.actions"
    KEY_RESULT_PAGING = "key_result.paging"


class Field(StrEnum):
    """Modal inputs: each is both the input's `block_id` and its element's `action_id`, and
    the `field` a service names in an error so it shows on that input."""

    TITLE = "title"
    DESCRIPTION = "description"
    LEVEL = "level"
    TEAM = "team"
    CONTRIBUTORS = "contributors"
    OWNER = "owner"
    PARENT = "parent"
    KIND = "kind"
    START = "start"
    TARGET = "target"
    UNIT = "unit"
    DIRECTION = "direction"
    COMPARATOR = "comparator"
    WEIGHT = "weight"
    SOURCE_URL = "source_url"
    SOURCE_PATH = "source_path"
    NAME = "name"
    CHANNEL = "channel"
    LEAD = "lead"
    MEMBERS = "members"
    WEEKDAY = "weekday"
    TIME = "time"
    TIMEZONE = "timezone"
    DIGEST = "digest"
    REMINDER = "reminder"
    ANONYMOUS = "anonymous"
    COMMITMENT = "commitment"
    GRADING_DAYS = "grading_days"
    RETRO_DAYS = "retro_days"
    COMPANY_DAY = "company_day"
    COMPANY_TIME = "company_time"


class CheckinField(StrEnum):
    """Inputs of the check-in modal: block `f"{field}:{ref}"`, action `field`."""

    VALUE = "value"
    CONFIDENCE = "confidence"
    STATUS = "status"
    NOTE = "note"
