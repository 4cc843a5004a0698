"""Prometheus metrics of one app instance (its own registry, so tests can run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "flightdelay_http_requests",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "flightdelay_http_request_seconds",
            "HTTP request latency by route and status",
            ["route", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.predictions = Counter(
            "flightdelay_predictions", "Predictions by predicted class", ["predicted"], registry=self.registry
        )
        # The children /predict counts on, resolved once (labels() costs microseconds a call).
        self.predicted_delayed = self.predictions.labels(predicted="delayed")
        self.predicted_on_time = self.predictions.labels(predicted="on_time")
        self.model = Info("flightdelay_model", "The live model", registry=self.registry)
        self.ready = Gauge(
            "flightdelay_model_ready", "1 while a verified model is serving, else 0", registry=self.registry
        )
        self.answers_logged = Counter(
            "flightdelay_answers_logged", "Answers written to the answer log", registry=self.registry
        )
        self.answers_lost = Counter(
            "flightdelay_answers_lost",
            "Answers the answer log could not keep, by reason (buffer_full, store_failed, shutdown)",
            ["reason"],
            registry=self.registry,
        )
        self.answers_spilled = Counter(
            "flightdelay_answers_spilled",
            "Answers the last flush could not write, kept in a local file for the next start",
            registry=self.registry,
        )
        self.reloads = Counter(
            "flightdelay_model_reloads", "Model reload attempts by result", ["result"], registry=self.registry
        )
