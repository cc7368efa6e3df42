"""What every benchmark prints about the machine it ran on."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_line() -> str:
    """'2 cores (nproc), <CPU model>' from /proc/cpuinfo."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores (nproc), {model}"


WORDS = (
    "court applicant respondent government detention custody investigation article convention "
    "violation sanctions asset freeze visa ban foreign person official corruption human rights "
    "judgment paragraph section regulation act statute tribunal appeal evidence procedure remedy "
    "damages liability jurisdiction treaty obligation compliance designation property blocking"
).split()


def write_html_doc(folder: Path, n: int, rng: object, *, edit: int = 0, paras: int = 16) -> Path:
    """A generated HTML document of ~10 kB (numbered paragraphs) with a sidecar: kind, title and
    date, and an id for every fifth. Returns the document's path."""
    words = WORDS
    body = "".join(
        f"<p>{k + 1}. " + " ".join(rng.choice(words) for _ in range(70)) + f" zq{n}x{k}.</p>"  # type: ignore[attr-defined]
        for k in range(paras)
    )
    note = f"<p>Revision {edit}.</p>" if edit else ""
    html = (
        f"<html lang='en'><head><title>Doc {n}</title></head>"
        f"<body><main>{body}{note}</main></body></html>"
    )
    path = folder / f"doc{n:05d}.html"
    path.write_text(html)
    side = {"kind": "article", "title": f"Generated document {n}", "date": "2020-01-01"}
    if n % 5 == 0:
        side["id"] = f"kb-{n}"
    import json

    (folder / f"doc{n:05d}.html.meta.json").write_text(json.dumps(side))
    return path
