"""What every transfer from a peer shares: deadlines, minimum rates, and HTTP connections that obey them.

pace.py (limits, phase budgets, the Watch and its watchdog; standard library only) and http.py
(requests and urllib3 connections whose sockets a Watch can shut down). Used by fetch/ (readers)
and publish/ (hosts), which must not import each other. Imports errors.py only.
"""
