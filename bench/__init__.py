"""CamAuth's benchmark: forward-auth and logins as ratios to a bare aiohttp handler.

A development tool, never shipped: nothing under ``camauth_addon/`` imports it. Run it from
the repository root as ``script/bench [options]`` or ``python -m bench [options]``.

It starts, on free loopback ports, a bare aiohttp app answering 200 and CamAuth itself
(``python -m camauth serve`` on temporary data directories), logs in as ``admin`` with the
password of the first-start banner, then loads each scenario with ``wrk`` (or, without it, an
in-process asyncio/aiohttp load generator) and prints requests/s, p50, p99 and the ratio to
the bare handler measured in the same run, next to the targets of PRODUCT.md ("Performance
targets") with a verdict for each. Servers run on CPU 0 and the load generator on CPU 1 when
the machine has two cores. It only measures and prints: nothing here asserts.

Modules, one job each: ``processes`` (pinning, plain HTTP, /proc figures), ``servers``
(the bare server and the CamAuth instances), ``model`` (scenarios and results), ``loadgen``
(wrk and the in-process fallback), ``scenarios`` (what is measured, in which order),
``flood`` (the owner's logins during a botnet's flood), ``report`` (targets, verdicts, the
table), ``cli`` (the command line).

``script/bench proxy [options]`` is the built-in proxy's benchmark (issue 12.8): ``proxy``
(the run and its command line), ``upstream`` (the bare camera UI behind the front ends),
``nginx`` (nginx with and without ``auth_request``), ``streams`` (one fast download, many
slow readers), ``proxy_report`` (the report and its targets).
"""
