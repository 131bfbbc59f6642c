#!/usr/bin/env python3
"""A fetch peer nobody here wrote, for bench-receive: Python's imaplib over IMAPS + XOAUTH2
(the token given) fetching every message of INBOX with `UID FETCH 1:* BODY.PEEK[]`. Prints the
seconds the fetch took and the messages it got as JSON on stdout."""

import argparse
import imaplib
import json
import ssl
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--token", required=True)
    args = p.parse_args()
    context = ssl.create_default_context(cafile=args.cafile)
    context.check_hostname = False
    imap = imaplib.IMAP4_SSL(args.host, args.port, ssl_context=context)
    initial = f"user={args.user}\x01auth=Bearer {args.token}\x01\x01".encode()
    imap.authenticate("XOAUTH2", lambda _challenge: initial)
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
