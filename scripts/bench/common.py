"""What the benchmark peers share: the arguments bench-send and bench-receive give every peer
(server port, test CA, user and its access token) and the TLS context for the test CA."""

import argparse
import ssl


def arguments(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--token", required=True)
    return p


def tls_context(args):
    context = ssl.create_default_context(cafile=args.cafile)
    # The stack's certificate names example.test; the peers dial 127.0.0.1.
    context.check_hostname = False
    return context


def xoauth2(args):
    """The XOAUTH2 initial response (Google's format), not yet base64."""
    return f"user={args.user}\x01auth=Bearer {args.token}\x01\x01".encode()
