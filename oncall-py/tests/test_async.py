"""oncall.AsyncOnCall: the same methods as awaitables."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import oncall
from conftest import new_key


def test_async_variant(db_url: str):
    async def main():
        oc = oncall.AsyncOnCall(db_url, encryption_key=new_key())
        pending = oc.list_users()
        assert inspect.isawaitable(pending)
        (admin,) = await pending
        assert admin.role == "admin"

        # concurrent calls on one engine
        users = await asyncio.gather(*(oc.add_user(f"u{i}@example.com", "s3cret-pass") for i in range(5)))
        assert sorted(u.email for u in users) == [f"u{i}@example.com" for i in range(5)]

        a = await oc.analyze("checkout latency high\nservice=checkout")
        assert a.status == "completed"
        assert (await oc.get_analysis(a.id)).id == a.id
        assert [x.id for x in await oc.list_analyses()] == [a.id]

        ds = await oc.add_datasource("p", "prometheus", "http://127.0.0.1:1", timeout_ms=500)
        assert [d.name for d in await oc.list_datasources()] == ["p"]
        assert (await oc.test_datasource(ds.id)).ok is False
        await oc.remove_datasource("p")

        t = await oc.create_ticket(analysis_id=a.id, severity="P3")
        t = await oc.transition_ticket(t.no, "processing")
        t = await oc.update_ticket(t.no, root_cause="a cache miss storm")
        assert (await oc.get_ticket(t.no)).root_cause == "a cache miss storm"
        assert [x.no for x in await oc.list_tickets()] == [t.no]

        with pytest.raises(oncall.NotFound):
            await oc.get_ticket("INC-19700101-0001")
        with pytest.raises(oncall.Conflict):
            await oc.transition_ticket(t.no, "open")
        # argument errors are raised at the call, before anything is awaited
        with pytest.raises(oncall.InvalidInput):
            oc.list_tickets(status="nope")

        # cancelling the awaitable is fine
        task = asyncio.ensure_future(oc.analyze("another alert", wait=True))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        assert await oc.close() is None

    asyncio.run(main())
