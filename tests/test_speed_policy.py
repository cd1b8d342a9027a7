"""The speed policy decides precision, channels_last and compile from facts, and says why (no torch, no clock)."""

from __future__ import annotations

from engine.threads import ThreadChoice
from engine.training import speed
from engine.training.speed import COMPILE_PAYBACK_MINUTES, COMPILE_PAYBACK_STEPS, decide

ONE = ThreadChoice(1, "--threads 1")


def plan(**facts):
    base = {"device": "cpu", "amp": True, "compile_mode": "auto", "channels_last": True, "convolutional": True, "n_params": 20_000,
            "total_steps": 675, "time_budget_min": 0.0, "on_main_thread": False, "cpu_bf16": True,
            "cuda_bf16": False, "threads": ONE}
    return decide(**{**base, **facts})


def test_a_cnn_on_a_cpu_with_native_bf16_gets_bf16_and_channels_last_but_a_short_run_is_not_compiled():
    p = plan()
    assert (p.precision, p.channels_last, p.compile) == ("bf16", True, False)
    assert "native bf16" in p.precision_reason and "convolution" in p.channels_last_reason
    assert f"{COMPILE_PAYBACK_STEPS:,}" in p.compile_reason  # the rule is said, not only applied


def test_a_cpu_without_native_bf16_stays_fp32_and_says_why():
    p = plan(cpu_bf16=False)
    assert p.precision == "fp32" and "no native bf16" in p.precision_reason


def test_a_model_without_convolutions_stays_fp32_on_a_cpu_where_autocast_would_not_pay():
    p = plan(convolutional=False, n_params=5_000_000)
    assert (p.precision, p.channels_last) == ("fp32", False) and "no convolutions" in p.precision_reason
    assert plan(convolutional=False, device="cuda", cuda_bf16=True).precision == "bf16"  # on a GPU it pays


def test_amp_off_means_fp32_everywhere():
    assert plan(amp=False).precision == "fp32"
    assert plan(amp=False, device="cuda", cuda_bf16=True).precision == "fp32"


def test_cuda_uses_bf16_where_supported_else_fp16_with_a_scaler():
    assert plan(device="cuda:0", cuda_bf16=True).precision == "bf16"
    fp16 = plan(device="cuda", cuda_bf16=False)
    assert fp16.precision == "fp16" and "scaler" in fp16.precision_reason
    assert fp16.channels_last


def test_channels_last_off_is_obeyed():
    p = plan(channels_last=False)
    assert not p.channels_last and p.channels_last_reason == "channels_last is off"


def test_mps_keeps_fp32_and_nchw():
    p = plan(device="mps")
    assert (p.precision, p.channels_last) == ("fp32", False)


def test_compile_auto_is_on_only_for_runs_long_enough_to_pay_it_back():
    assert not plan(total_steps=COMPILE_PAYBACK_STEPS - 1).compile
    assert plan(total_steps=COMPILE_PAYBACK_STEPS).compile
    assert plan(time_budget_min=COMPILE_PAYBACK_MINUTES).compile
    assert not plan(time_budget_min=COMPILE_PAYBACK_MINUTES / 2).compile


def test_a_short_time_budget_decides_even_when_the_epochs_promise_many_steps():
    """gan_digits.json: 100,000 epochs capped by 4.5 minutes is a short run, not 2.8 million steps."""
    short = plan(total_steps=100 * COMPILE_PAYBACK_STEPS, time_budget_min=4.5)
    assert not short.compile and "time budget of 4.5 min is too short" in short.compile_reason


def test_compile_on_and_off_are_obeyed_but_never_on_the_main_thread():
    assert plan(compile_mode="on").compile
    assert not plan(compile_mode="off", total_steps=10**9).compile
    main = plan(compile_mode="on", on_main_thread=True)
    assert not main.compile and "main thread" in main.compile_reason


def test_the_record_holds_every_choice_with_its_reason_and_the_log_line_says_them_all():
    p = plan()
    record = p.record()
    assert set(record) == {"threads", "threads_reason", "precision", "precision_reason", "channels_last",
                           "channels_last_reason", "compile", "compile_reason"}
    assert record["threads"] == 1 and record["threads_reason"] == "--threads 1"
    line = p.describe()
    for word in ("1 thread", "bf16", "channels_last on", "compile off"):
        assert word in line


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path):
    with_bf16, without = tmp_path / "a", tmp_path / "b"
    with_bf16.write_text("model name\t: x\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n")
    without.write_text("model name\t: x\nflags\t\t: fpu sse avx2\n")
    assert speed.cpu_has_native_bf16(with_bf16)
    assert not speed.cpu_has_native_bf16(without)


def test_only_4d_tensors_of_a_batch_change_layout_whatever_their_dtype():
    import torch

    images = torch.zeros(2, 3, 4, 5, dtype=torch.uint8)
    labels = torch.zeros(2, dtype=torch.long)
    out_images, out_labels = speed.batch_to_channels_last((images, labels))
    assert out_images.is_contiguous(memory_format=torch.channels_last) and out_images.dtype == torch.uint8
    assert torch.equal(out_images, images) and out_labels is labels
    tokens = torch.zeros(2, 7, dtype=torch.long)
    assert speed.batch_to_channels_last([tokens])[0] is tokens
