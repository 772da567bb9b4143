"""Writes a directive's plain text as a .docx the way a word processor stores it (python-docx,
pinned): one paragraph per line, `**…**` as bold runs, and each paragraph cut into several runs
(a word processor splits runs at every edit), so the reader must join runs, keep bold, and
unescape XML (`&`, quotes).

Usage: make_docx.py TEXT_FILE DOCX_FILE
"""
import sys

from docx import Document

src, out = sys.argv[1:3]
doc = Document()
for line in open(src, encoding="utf-8").read().split("\n"):
    p = doc.add_paragraph()
    bold = False
    for k, piece in enumerate(line.split("**")):
        # Cut each piece into runs of about five words, keeping the spaces.
        words = piece.split(" ")
        for i in range(0, len(words), 5):
            chunk = " ".join(words[i:i + 5]) + (" " if i + 5 < len(words) else "")
            if chunk:
                r = p.add_run(chunk)
                r.bold = bold
        bold = not bold
doc.save(out)
