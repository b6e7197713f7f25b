"""The demo model's script: tidy the sample folder and write a report, step by step.

Each reply depends only on how many assistant messages the conversation already
has, so a resumed demo session carries on where it stopped.
"""

from __future__ import annotations

from typing import Any

from airlock.demo.messages_server import Reply, Request, Script, Text, ToolUse

DEMO_MODEL = "demo-model"

STEPS = (
    "Survey the folder",
    "Sort files into notes/, data/ and scans/",
    "Total the March expenses",
    "Write REPORT.md",
    "Tick off the expenses to-do",
)

REPORT = """\
# March 2026 — folder report

Prepared by Airlock's demo model.

## What I reorganised
- `notes/`: meeting notes, to-do list, ideas
- `data/`: expense sheets (February's renamed to `expenses-2026-02.csv`)
- `scans/`: photo and receipt placeholders

## March expenses
| category | amount |
|---|---:|
| travel | 826.80 |
| office | 105.24 |
| food | 60.90 |
| software | 12.00 |
| **total** | **1004.94** |

Travel is 82% of the month; the meeting notes say to keep Q2 travel under 1500.

## Open to-dos
- renew passport
- send venue shortlist to Dana
- back up the photos folder
"""

SORT = (
    "mkdir -p notes data scans"
    " && mv -v -- 'meeting notes march.txt' todo.txt ideas.md notes/"
    " && mv -v -- expenses.csv 'expenses_feb (old).csv' data/"
    " && mv -v -- IMG_2041.jpg.txt IMG_2042.jpg.txt 'scan receipt hotel.pdf.txt' scans/"
    " && mv -v -- 'data/expenses_feb (old).csv' data/expenses-2026-02.csv"
    " && mv -v -- 'notes/meeting notes march.txt' notes/2026-03-02-meeting.txt"
)

TOTALS = (
    'awk -F, \'NR>1 {t[$2]+=$3; s+=$3} END {for (c in t) printf "%-10s %8.2f\\n", c, t[c];'
    ' printf "%-10s %8.2f\\n", "total", s}\' data/expenses.csv | sort -k2 -n -r'
)


def plan(current: int) -> ToolUse:
    """The plan with steps before `current` done and `current` in progress."""
    items: list[dict[str, Any]] = []
    for index, title in enumerate(STEPS):
        status = "done" if index < current else "in_progress" if index == current else "pending"
        items.append({"title": title, "status": status})
    return ToolUse(name="update_plan", input={"items": items})


def editor(**arguments: Any) -> ToolUse:
    return ToolUse(name="str_replace_based_edit_tool", input=arguments)


def demo_replies() -> list[list[Text | ToolUse]]:
    return [
        [
            Text(
                text="Hi! I'm the **demo model**, a scripted stand-in for Claude, so this runs "
                "without an API key. Everything below really happens in the sandbox. "
                "Let me look at the folder first."
            ),
            plan(0),
            ToolUse(name="bash", input={"command": "ls -la"}),
        ],
        [
            Text(text="Notes, spreadsheets and scans are all mixed up. I'll sort them."),
            plan(1),
            ToolUse(name="bash", input={"command": SORT}),
        ],
        [
            Text(text="Now the March totals per category:"),
            plan(2),
            ToolUse(name="bash", input={"command": TOTALS}),
        ],
        [
            Text(text="I'll write those up in a short report."),
            plan(3),
            editor(command="create", path="/workspace/REPORT.md", file_text=REPORT),
        ],
        [
            plan(4),
            editor(
                command="str_replace",
                path="/workspace/notes/todo.txt",
                old_str="[ ] sort out expenses before the 15th",
                new_str="[x] sort out expenses before the 15th (see REPORT.md)",
            ),
        ],
        [
            ToolUse(
                name="remember",
                input={"note": "Expense sheets live in data/; March 2026 total was 1004.94."},
            ),
            plan(len(STEPS)),
        ],
        [
            Text(
                text="Done. I sorted the files into three folders, totalled March's expenses "
                "in `REPORT.md` and ticked off the to-do.\n\nNothing has touched your folder "
                "yet: review the changes (**ctrl+r**), approve what you like, then sync."
            )
        ],
    ]


def demo_script(event_delay: float = 0.015) -> Script:
    """A `Script` for the MessagesServer that plays the demo."""
    replies = demo_replies()

    def reply(request: Request) -> Reply:
        step = sum(1 for message in request.messages if message["role"] == "assistant")
        if step < len(replies):
            return Reply(blocks=replies[step], event_delay=event_delay, chunk=6)
        return Reply(
            blocks=[
                Text(
                    text="(demo model) I only know this one script. Your changes are "
                    "waiting for review; set ANTHROPIC_API_KEY to work with Claude."
                )
            ]
        )

    return reply
