"""clova-demo: the end-to-end jobs users come for, against CLOVA Studio or the emulator.

Run ``clova-demo`` (or ``python -m clova_demo``). With ``CLOVASTUDIO_API_KEY`` set it talks to
CLOVA Studio; otherwise it starts the bundled emulator on 127.0.0.1 and says so first.
"""
