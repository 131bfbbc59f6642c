#!/usr/bin/env python3
"""A send peer nobody here wrote, for bench-send: Python's smtplib submitting N small messages
over STARTTLS + XOAUTH2 (the token given), either over `--connections K` connections kept open
(the messages shared among K threads), or with a new connection (STARTTLS, EHLO, AUTH, QUIT) per
message (`--per-message`). Prints the seconds the sending took as JSON on stdout."""

import base64
import json
import smtplib
import threading
import time
import uuid

from common import arguments, tls_context, xoauth2


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
    code, reply = smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(xoauth2(args)).decode())
    if code != 235:
        raise SystemExit(f"AUTH XOAUTH2 refused: {code} {reply!r}")
    return smtp


def send(smtp, args, n):
    refused = smtp.sendmail(args.user, [args.to], message(args.user, args.to, n))
    if refused:
        raise SystemExit(f"refused: {refused}")


def main():
    p = arguments("smtplib sending N messages")
    p.add_argument("--to", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--per-message", action="store_true")
    args = p.parse_args()
    context = tls_context(args)

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
