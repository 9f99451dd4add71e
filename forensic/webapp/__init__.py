"""``forensic app``: a local web front end over the service layer, Korean first.

It binds 127.0.0.1 only, lets in only the browser that opened its one-time address (a random
per-start token, then an HttpOnly same-site cookie), and runs every use case through
:mod:`forensic.service` with one server-side :class:`forensic.session.Session`.
"""
