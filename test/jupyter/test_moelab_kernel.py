"""Jupyter conformance (jupyter_kernel_test 0.4) and protocol checks for the MoE Lab kernel.

Run from this folder with the built kernel (npx tsc -p tsconfig.json) found through JUPYTER_PATH:
    JUPYTER_PATH=<repo> /usr/bin/python3 -m unittest -v test_moelab_kernel
test/jupyter/kernel.test.ts does this inside `npm test` and fails unless every test passes.
"""
import os
import tempfile
import time
import unittest
from queue import Empty

import jupyter_kernel_test
from jupyter_client.manager import start_new_kernel

from moelab_kernel_fields import STARTUP_TIMEOUT, LabKernelFields

# The display mode is decided per request in these tests (live iff allow_stdin), never forced from outside.
os.environ.pop("MOELAB_DISPLAY", None)

REPLY_TIMEOUT = 60


class MoeLabKernelTests(LabKernelFields, jupyter_kernel_test.KernelTests):
    """The upstream conformance suite, with every field that applies to a TypeScript kernel filled in."""

    kernel_name = "moelab"
    complete_code_samples = ["1 + 1", "const a = 1;\nconst b = a + 1;", "await Promise.resolve(1)", "function f() {\n  return 1;\n}"]
    incomplete_code_samples = ["function f() {", "let x = [1,", "if (true) {\n  console.log(1);"]
    invalid_code_samples = ["let = ;", "}", "const 1x = 2;"]

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "'moe' + 'lab'", "result": "'moelab'"},
        {"code": "[1, 2, 3].map((x) => x * x)", "result": "[ 1, 4, 9 ]"},
        {"code": "tf.tensor([1, 2]).shape", "result": "[ 2 ]"},
    ]
    code_display_data = [
        {"code": 'lab.display({ data: { "text/html": "<b>MoE</b>", "text/plain": "MoE" } })', "mime": "text/html"},
        {"code": 'import * as tslab from "tslab";\ntslab.display.markdown("**MoE**")', "mime": "text/markdown"},
    ]

    code_history_pattern = "'moe'*"


class Cell:
    """What one execute_request produced: the reply content and the iopub messages up to idle."""

    def __init__(self, reply, messages, seconds):
        self.reply = reply
        self.messages = messages
        self.seconds = seconds

    def of_type(self, msg_type):
        return [m for m in self.messages if m["msg_type"] == msg_type]

    def result_text(self):
        results = self.of_type("execute_result")
        return results[0]["content"]["data"]["text/plain"] if results else None


class MoeLabProtocolTests(unittest.TestCase):
    """The fixes over upstream tslab, in a kernel started outside the repository (the preload must still work)."""

    @classmethod
    def setUpClass(cls):
        cls.cwd = tempfile.TemporaryDirectory()
        cls.km, cls.kc = start_new_kernel(kernel_name="moelab", startup_timeout=STARTUP_TIMEOUT, cwd=cls.cwd.name)
        # The very first cell: tf and lab need no import, and lab is typed (v: string type-checks).
        cls.first = cls.execute("const v: string = lab.version;\ntf.tensor([1, 2, 3]).sum().arraySync()")

    @classmethod
    def tearDownClass(cls):
        # shutdown_request on control: the kernel replies, then exits by itself with status 0.
        process = cls.km.provisioner.process
        cls.kc.shutdown()
        reply = cls.kc.get_control_msg(timeout=REPLY_TIMEOUT)
        try:
            code = process.wait(timeout=10)
        finally:
            cls.kc.stop_channels()
            cls.km.shutdown_kernel(now=True)
            cls.cwd.cleanup()
        if reply["msg_type"] != "shutdown_reply" or reply["content"].get("status") != "ok" or code != 0:
            raise AssertionError(f"shutdown: reply {reply['msg_type']} {reply['content']}, exit status {code}")

    @classmethod
    def collect(cls, msg_id, started):
        """The reply to msg_id and its iopub messages, from busy to idle."""
        messages = []
        while True:
            msg = cls.kc.get_iopub_msg(timeout=REPLY_TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        while True:
            reply = cls.kc.get_shell_msg(timeout=REPLY_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return Cell(reply["content"], messages, time.monotonic() - started)

    @classmethod
    def execute(cls, code, **options):
        started = time.monotonic()
        return cls.collect(cls.kc.execute(code, **options), started)

    def assertErrorEverywhere(self, cell, ename):
        """The reply and the one iopub error carry the same ename, evalue and traceback."""
        self.assertEqual(cell.reply["status"], "error")
        self.assertEqual(cell.reply["ename"], ename)
        errors = cell.of_type("error")
        self.assertEqual(len(errors), 1)
        for field in ("ename", "evalue", "traceback"):
            self.assertEqual(errors[0]["content"][field], cell.reply[field])

    def test_first_cell_uses_tf_and_lab(self):
        self.assertEqual(self.first.reply["status"], "ok", self.first.reply)
        self.assertEqual(self.first.result_text(), "6")

    def test_lab_is_typed_not_any(self):
        cell = self.execute("const n: number = lab.version;")
        self.assertErrorEverywhere(cell, "TSError")
        self.assertIn("not assignable to type 'number'", cell.reply["evalue"])

    def test_execute_input_and_counts(self):
        cells = [self.execute("1"), self.execute('throw new Error("counted")'), self.execute("2")]
        counts = [c.reply["execution_count"] for c in cells]
        self.assertEqual(counts, [counts[0], counts[0] + 1, counts[0] + 2])  # errors count too
        for cell, count in zip(cells, counts):
            inputs = cell.of_type("execute_input")
            self.assertEqual(len(inputs), 1)
            self.assertEqual(inputs[0]["content"]["execution_count"], count)
        self.assertEqual(cells[2].of_type("execute_result")[0]["content"]["execution_count"], counts[2])
        self.assertEqual(cells[0].messages[0]["content"], {"execution_state": "busy"})

    def test_execute_result_instead_of_print(self):
        cell = self.execute("({ a: 1, b: [1, 2] })")
        self.assertEqual(cell.result_text(), "{ a: 1, b: [ 1, 2 ] }")
        self.assertEqual(cell.of_type("stream"), [])
        self.assertIsNone(self.execute("let nothing = undefined; nothing").result_text())

    def test_promise_result_is_awaited(self):
        cell = self.execute("new Promise((done) => setTimeout(() => done(41 + 1), 300))")
        self.assertEqual(cell.result_text(), "42")
        self.assertGreaterEqual(cell.seconds, 0.3)
        self.assertIsNone(self.execute("Promise.resolve(undefined)").result_text())  # like show(fig): no result
        failed = self.execute('Promise.reject(new SyntaxError("bad promise"))')
        self.assertErrorEverywhere(failed, "SyntaxError")

    def test_type_error_has_diagnostic(self):
        cell = self.execute('let x = 1;\nconst s: number = "text";')
        self.assertErrorEverywhere(cell, "TSError")
        self.assertIn("2:7", cell.reply["evalue"])
        self.assertIn("TS2322", cell.reply["evalue"])
        traceback = "\n".join(cell.reply["traceback"])
        self.assertIn("2:7 - error TS2322: Type 'string' is not assignable to type 'number'.", traceback)
        self.assertIn('const s: number = "text";', traceback)

    def test_runtime_throw(self):
        cell = self.execute('function inner() { throw new RangeError("out of range"); }\ninner()')
        self.assertErrorEverywhere(cell, "RangeError")
        self.assertEqual(cell.reply["evalue"], "out of range")
        self.assertIn("RangeError: out of range", cell.reply["traceback"])
        self.assertTrue(any("inner" in line for line in cell.reply["traceback"]))

    def test_live_flag_follows_allow_stdin(self):
        self.assertEqual(self.execute("lab.kernelHost()!.live", allow_stdin=False).result_text(), "false")
        self.assertEqual(self.execute("lab.kernelHost()!.live", allow_stdin=True).result_text(), "true")

    def test_track_delays_reply(self):
        cell = self.execute(
            "lab.kernelHost()!.track(new Promise((done) => setTimeout(() => {\n"
            '  lab.display({ data: { "text/plain": "rendered late" } });\n'
            "  done(null);\n"
            "}, 400)));"
        )
        self.assertEqual(cell.reply["status"], "ok")
        self.assertGreaterEqual(cell.seconds, 0.4)
        displays = cell.of_type("display_data")  # arrived before idle, so before the cell was reported done
        self.assertEqual([d["content"]["data"]["text/plain"] for d in displays], ["rendered late"])

    def test_tracked_rejection_fails_cell(self):
        cell = self.execute('lab.kernelHost()!.track(Promise.reject(new TypeError("render failed")));')
        self.assertErrorEverywhere(cell, "TypeError")
        self.assertEqual(cell.reply["evalue"], "render failed")

    def test_unhandled_rejection_does_not_kill_kernel(self):
        self.execute('Promise.reject(new Error("nobody catches this")); setTimeout(() => { throw new Error("later") }, 1);')
        time.sleep(0.2)
        self.assertEqual(self.execute("40 + 2").result_text(), "42")

    def test_error_aborts_queued_cells(self):
        # The failing cell runs long enough for the second request to be queued behind it.
        started = time.monotonic()
        failing = self.kc.execute('await new Promise((done) => setTimeout(done, 300));\nthrow new Error("stop here");')
        queued = self.kc.execute("1")
        self.assertEqual(self.collect(failing, started).reply["status"], "error")
        self.assertEqual(self.collect(queued, started).reply["status"], "aborted")
        self.assertEqual(self.execute("3").result_text(), "3")  # sent after the error reply: runs

    def test_interrupt_stops_busy_loop(self):
        started = time.monotonic()
        msg_id = self.kc.execute("while (true) {}")
        time.sleep(1.0)
        self.km.interrupt_kernel()
        cell = self.collect(msg_id, started)
        self.assertErrorEverywhere(cell, "KeyboardInterrupt")
        self.assertIn("interrupted", cell.reply["evalue"])
        self.assertEqual(self.execute("1 + 1").result_text(), "2")

    def test_interrupt_stops_fit(self):
        # A long lab.train.fit with a live progress bar; afterStep records how many steps ran and the weights each left.
        setup = self.execute(
            "const net = new lab.Linear(6, 4);\n"
            "const probe = { steps: 0, weights: [] as number[] };\n"
            "const weights = () => Array.from(net.weight.dataSync());"
        )
        self.assertEqual(setup.reply["status"], "ok", setup.reply)
        started = time.monotonic()
        msg_id = self.kc.execute(
            "await lab.train.fit({\n"
            "  module: net,\n"
            "  batches: () => ({ inputs: tf.ones([8, 6]) }),\n"
            "  loss: (b: { inputs: tf.Tensor }) => tf.mean(tf.square(tf.sub(net.apply(b.inputs), 1))) as tf.Scalar,\n"
            "  afterStep: () => { probe.steps++; probe.weights = weights(); },\n"
            "  config: { steps: 10_000_000, yieldMs: 0, progress: true, label: 'interruptible' },\n"
            "});",
            allow_stdin=True,
        )
        time.sleep(3.0)
        interrupted_at = time.monotonic()
        self.km.interrupt_kernel()
        cell = self.collect(msg_id, started)
        stopped_within = time.monotonic() - interrupted_at
        self.assertErrorEverywhere(cell, "KeyboardInterrupt")
        self.assertIn("fit, before step", cell.reply["evalue"])
        self.assertLess(stopped_within, 2.0)  # about a second: the loop stops at its next step
        bars = [m["content"]["data"]["text/plain"] for m in cell.of_type("update_display_data")]
        self.assertTrue(bars and bars[-1].endswith("interrupted"), bars[-3:])
        # No step after the reply, and the weights are those the last whole step left (no half-applied update).
        after_reply = int(self.execute("probe.steps").result_text())
        self.assertGreater(after_reply, 0)
        time.sleep(1.0)
        alone = self.execute(
            "const before = probe.steps;\n"
            "await new Promise((done) => setTimeout(done, 500));\n"
            "[before, probe.steps, weights().every((w, i) => w === probe.weights[i])]"
        )
        self.assertEqual(alone.result_text(), f"[ {after_reply}, {after_reply}, true ]")
        # The next fit runs under a fresh token: it is not cancelled by the earlier interrupt.
        again = self.execute("(await lab.train.fit({ module: net, batches: () => ({ inputs: tf.ones([8, 6]) }), "
                             "loss: (b: { inputs: tf.Tensor }) => tf.mean(net.apply(b.inputs)) as tf.Scalar, config: { steps: 3 } })).history.length")
        self.assertEqual(again.result_text(), "3")

    def test_traceback_opens_with_the_cell(self):
        cell = self.execute("function helper() {\n  return new lab.Linear(4, 4).apply(tf.ones([2, 3]));\n}\nhelper();")
        self.assertErrorEverywhere(cell, "Error")
        tb = cell.reply["traceback"]
        self.assertEqual(tb[:4], ["Error: " + cell.reply["evalue"], "  in the cell:", "    at helper (this cell)", "    at the cell's top level"])
        self.assertEqual(tb[4], "  in moelab:")
        self.assertRegex(tb[5], r"^    at Linear\.apply \(lib/nn/linear\.ts:\d+:\d+\)$")  # source-mapped to the TypeScript
        self.assertFalse(any("dist/" in line or "tslab" in line or "kernel" in line for line in tb), tb)

    def test_signature_help_inside_call(self):
        for code in ("lab.seed(", "lab.train.fitConfig({ steps: 3, "):
            msg_id = self.kc.inspect(code, len(code))
            reply = self.kc.get_shell_msg(timeout=REPLY_TIMEOUT)
            self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertTrue(reply["content"]["found"], code)
            name = code.split("(")[0].split(".")[-1]
            self.assertIn(f"{name}(", reply["content"]["data"]["text/plain"])

    def test_comm_info_reply(self):
        msg_id = self.kc.comm_info()
        reply = self.kc.get_shell_msg(timeout=REPLY_TIMEOUT)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["msg_type"], "comm_info_reply")
        self.assertEqual(reply["content"], {"status": "ok", "comms": {}})

    def test_silent_cell_publishes_nothing(self):
        count = self.execute("1").reply["execution_count"]
        cell = self.execute('console.log("hidden"); 5', silent=True)
        self.assertEqual(cell.reply["execution_count"], count)
        self.assertEqual([m["msg_type"] for m in cell.messages], ["status", "status"])


if __name__ == "__main__":
    unittest.main()
