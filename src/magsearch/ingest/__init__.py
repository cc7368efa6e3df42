"""Ingest: detect -> parse (in an isolated worker) -> structure -> citations -> archive -> index.

detect.py    media type from the bytes (`detect`)
registry.py  the `Parser` protocol, `parser_for(media_type)`, `parse_bytes(data)`
pdf.py       `PdfParser` (the only module that imports pypdf)
html.py      `HtmlParser` (the only module that imports bs4)
text.py      `TextParser`, plus the decoding and date helpers the HTML parser shares
"""
