#!/usr/bin/env python3
"""A send peer nobody here wrote, for bench-send: Python's smtplib submitting N small messages
over STARTTLS + XOAUTH2 (the token given), either over `--connections K` connections kept open
(the messages shared among K threads), or with a new connection (STARTTLS, EHLO, AUTH, QUIT) per
message (`--per-message`). Prints the seconds the sending took as JSON on stdout."""

import argparse
import base64
import json
import smtplib
import ssl
import threading
import time
import uuid


def message(sender, recipient, n):
    return (
        f"From: {sender}\r\nTo: {recipient}\r\nSubject: smtplib {n}\r\n"
        f"Message-ID: <smtplib-{n}-{uuid.uuid4().hex}@bench.example>\r\n\r\n"
        f"Hello,\r\n\r\nyour licence key is {n:08}. Keep this message.\r\n\r\n"
        "Regards,\r\nThe licensing server\r\n"
    )


def open_connection(args, context):
    smtp = smtplib.SMTP(args.host, args.port, local_hostname="bench.example")
    smtp.starttls(context=context)
    smtp.ehlo("bench.example")
    initial = f"user={args.user}\x01auth=Bearer {args.token}\x01\x01"
    code, reply = smtp.docmd(
        "AUTH", "XOAUTH2 " + base64.b64encode(initial.encode()).decode()
    )
    if code != 235:
        raise SystemExit(f"AUTH XOAUTH2 refused: {code} {reply!r}")
    return smtp


def send(smtp, args, n):
    refused = smtp.sendmail(args.user, [args.to], message(args.user, args.to, n))
    if refused:
        raise SystemExit(f"refused: {refused}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--per-message", action="store_true")
    args = p.parse_args()
    context = ssl.create_default_context(cafile=args.cafile)
    context.check_hostname = False

    started = time.monotonic()
    if args.per_message:
        for n in range(args.messages):
            smtp = open_connection(args, context)
            send(smtp, args, n)
            smtp.quit()
    else:
        shares = [range(k, args.messages, args.connections) for k in range(args.connections)]

        def run(share):
            smtp = open_connection(args, context)
            for n in share:
                send(smtp, args, n)
            smtp.quit()

        threads = [threading.Thread(target=run, args=(s,)) for s in shares]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print(json.dumps({"seconds": time.monotonic() - started}))


if __name__ == "__main__":
    main()
