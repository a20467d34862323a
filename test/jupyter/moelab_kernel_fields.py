"""The jupyter_kernel_test fields both MoE Lab kernels share (tslab-based `moelab` and Deno's `moelab-deno`).

A mixin, not a TestCase, so that importing it into a suite adds no test class of its own. Each suite lists it before
jupyter_kernel_test.KernelTests and sets `kernel_name` plus the samples where the two kernels differ.
"""
from jupyter_client.manager import start_new_kernel

STARTUP_TIMEOUT = 120  # seconds: a loaded 2-core CI machine compiles tfjs' types during the preload


class LabKernelFields:
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'
    code_generate_error = 'throw new Error("boom")'

    completion_samples = [
        {"text": "Math.ma", "matches": {"max"}},
        {"text": "lab.currentBa", "matches": {"currentBackend"}},
    ]
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "lab.seed"
    code_clear_output = "lab.clearOutput()"

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, startup_timeout=STARTUP_TIMEOUT)
