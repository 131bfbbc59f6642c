#!/usr/bin/env python3
"""A fetch peer nobody here wrote, for bench-receive: Python's imaplib over IMAPS + XOAUTH2
(the token given) fetching every message of INBOX with `UID FETCH 1:* BODY.PEEK[]`. Prints the
seconds the fetch took and the messages it got as JSON on stdout."""

import imaplib
import json
import time

from common import arguments, tls_context, xoauth2


def main():
    args = arguments("imaplib fetching a whole INBOX").parse_args()
    context = tls_context(args)
    imap = imaplib.IMAP4_SSL(args.host, args.port, ssl_context=context)
    imap.authenticate("XOAUTH2", lambda _challenge: xoauth2(args))
    imap.select("INBOX", readonly=True)
    started = time.monotonic()
    status, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
    took = time.monotonic() - started
    if status != "OK":
        raise SystemExit(f"UID FETCH failed: {status} {data!r}")
    messages = sum(1 for item in data if isinstance(item, tuple))
    imap.logout()
    print(json.dumps({"seconds": took, "messages": messages}))


if __name__ == "__main__":
    main()
