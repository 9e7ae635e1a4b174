"""Optional torch backends (GPU-ready). Nothing here imports torch at package import time: each
module imports it itself, and only the trainers that the user picks with --backend torch load one."""
