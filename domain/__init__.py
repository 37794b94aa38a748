"""The circulation domain: pure Python, standard library only.

Entities (books, copies, members, loans, holds, ledger entries), the circulation policy and the
rules that decide who may borrow, renew or hold what. Nothing here knows about storage, HTTP or time
sources: callers pass the current instant in.
"""
