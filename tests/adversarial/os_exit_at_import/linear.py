"""ATTACK: os._exit(0) at import: the process ends at once, no summary, exit code 0. Target: linear"""
import os

os._exit(0)
