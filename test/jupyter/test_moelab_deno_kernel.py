"""Jupyter conformance (jupyter_kernel_test 0.4) of the MoE Lab Deno kernel (kernels/moelab-deno: Deno's own
`deno jupyter` kernel with lab and tf preloaded).

Run from this folder with the built launcher (npx tsc -p tsconfig.json) found through JUPYTER_PATH:
    JUPYTER_PATH=<repo> /usr/bin/python3 -m unittest -v test_moelab_deno_kernel
test/jupyter/deno-kernel.test.ts does this inside `npm test`; it requires that exactly the tests listed in
DENO_UPSTREAM_FAILURES there fail (each is a limitation of Deno's kernel, with the reason) and every other one passes.
"""
import os
import time
import unittest

import jupyter_kernel_test
from jupyter_client.manager import start_new_kernel

from moelab_kernel_fields import STARTUP_TIMEOUT, LabKernelFields

os.environ.pop("MOELAB_DISPLAY", None)


class MoeLabDenoKernelTests(LabKernelFields, jupyter_kernel_test.KernelTests):
    """The upstream conformance suite with the fields that apply to Deno's TypeScript kernel."""

    kernel_name = "moelab-deno"
    complete_code_samples = ["1 + 1", "const a = 1;\nconst b = a + 1;", "await Promise.resolve(1)"]
    incomplete_code_samples = ["function f() {", "let x = [1,"]
    invalid_code_samples = ["let = ;", "}"]

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "tf.tensor([1, 2]).shape", "result": "[ 2 ]"},
    ]
    code_display_data = [
        {"code": 'lab.display({ data: { "text/html": "<b>MoE</b>", "text/plain": "MoE" } })', "mime": "text/html"},
    ]

    code_history_pattern = "6*"


if __name__ == "__main__":
    unittest.main()


class DenoInterruptTests(unittest.TestCase):
    """Kernel › Interrupt under Deno: the library's loops stop between steps with a KeyboardInterrupt, Deno lives on."""

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name="moelab-deno", startup_timeout=STARTUP_TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)

    def reply_to(self, msg_id, timeout):
        end = time.time() + timeout
        while time.time() < end:
            reply = self.kc.get_shell_msg(timeout=max(0.1, end - time.time()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply
        raise AssertionError(f"no reply to {msg_id} within {timeout} s")

    def test_interrupt_stops_a_library_loop(self):
        loop = "globalThis.steps = 0; while (true) { lab.throwIfCancelled('probe'); await new Promise((r) => setTimeout(r, 10)); globalThis.steps++; }"
        msg_id = self.kc.execute(loop)
        time.sleep(2)
        started = time.time()
        self.km.interrupt_kernel()
        reply = self.reply_to(msg_id, 10)
        self.assertLess(time.time() - started, 2.0)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        self.assertTrue(self.km.is_alive())
        after = self.kc.execute("globalThis.steps")
        self.assertEqual(self.reply_to(after, 10)["content"]["status"], "ok")
        again = self.kc.execute("let n = 0; for (let i = 0; i < 3; i++) { lab.throwIfCancelled('again'); n++; } n")
        self.assertEqual(self.reply_to(again, 10)["content"]["status"], "ok")
