"""Chat evidence as it is cited: messages found, marked and quoted from stored transcripts.

Capture writes the transcripts (:mod:`forensic.capture.transcript`); this package only reads
them, always checked against the SHA-256 their ``transcript`` log entry recorded.
"""
