"""Liveness plus a database round-trip, for load balancers and `scripts/` smoke checks."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from psycopg import Error as PsycopgError
from pydantic import BaseModel

from service.core.deps import PoolDep

router = APIRouter(tags=["health"])
logger = logging.getLogger("localghost.health")

# A probe must answer before the load balancer's own timeout, whatever the database does.
HEALTH_DB_TIMEOUT_S = 2.0


class HealthStatus(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


async def _database_reachable(pool: PoolDep) -> bool:
    try:
        async with asyncio.timeout(HEALTH_DB_TIMEOUT_S):
            async with pool.connection(timeout=HEALTH_DB_TIMEOUT_S) as conn:
                await conn.execute("select 1")
    except (PsycopgError, TimeoutError) as exc:  # PoolTimeout is a psycopg OperationalError.
        logger.warning("health check: database unreachable (%s)", type(exc).__name__)
        return False
    return True


@router.get(
    "/health",
    operation_id="get_health",
    summary="Service and database health",
    response_model=HealthStatus,
    responses={
        503: {
            "model": HealthStatus,
            "description": "Database unreachable: status `degraded`, database `unavailable`",
        }
    },
)
async def get_health(pool: PoolDep) -> HealthStatus | JSONResponse:
    if await _database_reachable(pool):
        return HealthStatus(status="ok", database="ok")
    degraded = HealthStatus(status="degraded", database="unavailable")
    return JSONResponse(degraded.model_dump(), status_code=503)
