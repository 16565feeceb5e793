"""The demo catalogue: one module per demo, each a small seeded PyTorch experiment.

Every module declares `SPEC` (a `studyapp.demo_api.DemoSpec`) and
`run(params, seed, progress) -> DemoOutput`. Modules import torch inside `run` only, so the
catalogue can be listed without it.
"""
