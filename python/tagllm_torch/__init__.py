"""Tag-LLM training with PyTorch: the same tags, templates and bundles as Tag-LLM for VS Code.

The TypeScript runtime (src/runtime/tags, src/runtime/train) is the reference; every module here
names the TS module whose behaviour it reproduces.
"""

__version__ = "0.1.0"
