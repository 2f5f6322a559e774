"""The Simulate view (issue 23): what a diversity setting does over time. Choose the run, the policies and
the horizon; the simulation (engine.simulation.service) runs in a child process with progress and Cancel;
one plot per metric with a line per policy, the long-run frontier beside today's one-list frontier, and a
click on a round shows that round's lists for a chosen user."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from llmrec_gui import workers
from llmrec_gui.child_jobs import ChildJob
from llmrec_gui.widgets.plot_style import style_plot

PLOTTED = ("cumulative_utility", "ndcg", "coverage", "gini_exposure", "pop_shown", "ild", "homogenisation",
           "homogenisation_vs_ideal")
TITLES = {"cumulative_utility": "Cumulative true utility", "ndcg": "NDCG@k vs the oracle",
          "coverage": "Catalogue coverage", "gini_exposure": "Gini of exposure", "pop_shown": "Popularity shown",
          "homogenisation": "Homogenisation (Jaccard; dashed: ideal)", "ild": "Intra-list diversity",
          "homogenisation_vs_ideal": "Homogenisation − ideal's"}
UPDATES = {"refit": "refit", "warm": "warm start", "none": "none (fold-in)"}
COLOURS = ("#4c78a8", "#e4572e", "#54a24b", "#b279a2", "#f58518", "#72b7b2", "#9d755d", "#eeca3b")
FRONTIER_X = {"coverage": "Catalogue coverage", "homogenisation": "Homogenisation (Jaccard)"}


class SimulatePanel(QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.job: ChildJob | None = None
        self.simulation: dict | None = None
        self.round: int | None = None
        self.loading = False
        self.listed: int | None = None      # the dataset whose stored simulations the list holds

        form = QFormLayout()
        self.run = QComboBox()
        self.policies = QLineEdit("mmr:0 mmr:0.3 dpp:0.5")
        self.policies.setToolTip("policies separated by spaces: mmr:T, ild:T or dpp:T, T in [0, 1] (0: the model's own order)")
        self.users = _spin(1, 100_000, 2000)
        self.rounds = _spin(1, 1000, 20)
        self.update_every = _spin(1, 1000, 5)
        self.update = QComboBox()
        for key, label in UPDATES.items():
            self.update.addItem(label, key)
        self.update.setToolTip("how the system learns from what was consumed: refit (the baselines), warm start "
                               "(the LSTM trained further), none (the model kept; for the LSTM: fold-in)")
        self.seed = _spin(0, 2**31 - 1, 0)
        form.addRow("System (run)", self.run)
        form.addRow("Policies", self.policies)
        horizon = QHBoxLayout()
        for label, w in (("users", self.users), ("rounds", self.rounds), ("update", self.update),
                         ("every", self.update_every), ("seed", self.seed)):
            horizon.addWidget(QLabel(label))
            horizon.addWidget(w)
        form.addRow("Horizon", horizon)
        self.start_button = QPushButton("Simulate")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.status = QLabel("Choose a run and policies, then Simulate.")
        self.status.setWordWrap(True)
        self.stored = QComboBox()
        self.stored.setToolTip("simulations stored for this dataset")
        buttons = QHBoxLayout()
        for w in (self.start_button, self.cancel_button, self.progress):
            buttons.addWidget(w)
        buttons.addWidget(QLabel("Stored:"))
        buttons.addWidget(self.stored, 1)

        self.view = pg.GraphicsLayoutWidget()
        self.plots: dict[str, pg.PlotItem] = {}
        for j, key in enumerate(PLOTTED):
            p = self.view.addPlot(row=j // 5, col=j % 5, title=TITLES[key])
            style_plot(p)
            p.setLabel("bottom", "round")
            self.plots[key] = p
        self.frontier = self.view.addPlot(row=1, col=3, colspan=2, title="Frontier: today (○) and long run (●)")
        style_plot(self.frontier)
        self.frontier.setLabel("left", "true utility per round")
        self.frontier_x = QComboBox()
        for key, label in FRONTIER_X.items():
            self.frontier_x.addItem(label, key)
        self.legend = self.plots["cumulative_utility"].addLegend(offset=(10, 10))
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.markers: list[pg.InfiniteLine] = []

        self.user = QComboBox()
        self.lists = QTableWidget(0, 0)
        self.lists.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.round_label = QLabel("Click a plot at a round to see that round's lists.")
        lists_box = QWidget()
        lb = QVBoxLayout(lists_box)
        lb.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.round_label, 1)
        top.addWidget(QLabel("User:"))
        top.addWidget(self.user)
        top.addWidget(QLabel("Frontier x:"))
        top.addWidget(self.frontier_x)
        lb.addLayout(top)
        lb.addWidget(self.lists)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(lists_box)
        split.setSizes([520, 200])

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        lay.addWidget(split, 1)

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.stored.activated.connect(lambda _i: self.open_simulation(self.stored.currentData()))
        self.user.currentIndexChanged.connect(lambda _i: self._show_lists())
        self.frontier_x.currentIndexChanged.connect(lambda _i: self._draw_frontier())
        self.run.currentIndexChanged.connect(lambda _i: self._default_update())
        state.runs_changed.connect(self._runs)
        state.dataset_changed.connect(lambda _d: self.refresh_stored())
        self._runs(state.runs)
        self.refresh_stored()

    # ---- what to simulate ------------------------------------------------------------------
    def _runs(self, runs) -> None:
        self.run.clear()
        for r in runs:
            self.run.addItem(f"run {r.id} · {r.model}" + ("" if r.holdout else " (no holdout)"), r.id)
        if runs:
            self.run.setCurrentIndex(len(runs) - 1)
        self._default_update()

    def _default_update(self) -> None:
        """The chosen run's usual update (warm start for an LSTM, refit otherwise): the engine's default."""
        from engine.simulation.updates import default_update
        model = next((r.model for r in self.state.runs if r.id == self.run.currentData()), None)
        if model is not None:
            self.update.setCurrentIndex(self.update.findData(default_update(model)))

    def request(self):
        from engine.simulation.loop import parse_policy
        from engine.simulation.service import SimulationRequest
        policies = tuple(self.policies.text().split())
        for p in policies:
            parse_policy(p)          # EngineError with the reason, shown in the status line
        return SimulationRequest(run_id=int(self.run.currentData()), policies=policies, users=self.users.value(),
                                 rounds=self.rounds.value(), update_every=self.update_every.value(),
                                 update=self.update.currentData(), seed=self.seed.value())

    def start(self) -> None:
        if self.job is not None or self.run.currentData() is None or self.state.store is None:
            return
        from engine.errors import EngineError
        from engine.simulation.service import simulate_in_child
        try:
            request = self.request()
        except EngineError as exc:
            self.status.setText(str(exc))
            return
        self.job = ChildJob(simulate_in_child, self.state.store.url, request, parent=self)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(lambda msg: self._ended(f"Simulation failed: {msg}"))
        self.job.cancelled.connect(lambda: self._ended("Cancelled: nothing was stored."))
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Starting…")
        self.job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling…")

    def _progress(self, update) -> None:
        if hasattr(update, "stage"):
            self.status.setText(f"{update.stage}: {update.done} of {update.total}")
            self.progress.setMaximum(max(int(update.total), 1))
            self.progress.setValue(int(update.done))

    def _finished(self, simulation_id) -> None:
        self._ended(f"Simulation {simulation_id} stored.")
        self.refresh_stored(select=int(simulation_id))

    def _ended(self, text: str) -> None:
        self.job = None
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(text)

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.shutdown()

    # ---- stored simulations ------------------------------------------------------------------
    def refresh_stored(self, select: int | None = None) -> None:
        if self.state.store is None or self.state.dataset is None:
            return
        from engine.simulation.service import list_simulations
        self.loading = True
        dataset_id = self.state.dataset.id
        workers.run_async(workers.on_store(self.state.store), list_simulations, dataset_id,
                          on_done=lambda rows: self._stored(rows, select, dataset_id), on_error=self._error)

    def _stored(self, rows: list[dict], select: int | None, dataset_id: int) -> None:
        self.listed = dataset_id
        self.stored.clear()
        for r in rows:
            st = r["settings"]
            self.stored.addItem(f"#{r['id']} run {r['run_id']}: {st.get('users')} users x {st.get('rounds')} rounds, "
                                f"{' '.join(st.get('policies', []))}", r["id"])
        want = select if select is not None else (rows[-1]["id"] if rows else None)
        if want is None:
            self.loading = False
            return
        self.stored.setCurrentIndex(self.stored.findData(want))
        self.open_simulation(want)

    def open_simulation(self, simulation_id) -> None:
        if simulation_id is None:
            return
        from engine.simulation.service import simulation_for_view
        self.loading = True
        workers.run_async(workers.on_store(self.state.store), simulation_for_view, int(simulation_id),
                          on_done=self.show_simulation, on_error=self._error)

    def _error(self, msg: str) -> None:
        self.loading = False
        self.status.setText(msg)

    # ---- the plots ---------------------------------------------------------------------------
    def show_simulation(self, sim: dict) -> None:
        self.simulation, self.loading = sim, False
        st = sim["settings"]
        self.status.setText(f"Simulation {sim['id']}: dataset {sim['dataset']}, run {sim['run_id']} "
                            f"({st.get('model', '?')}), {st.get('users')} users, {st.get('rounds')} rounds, "
                            f"update {st.get('update', 'refit')} every {st.get('update_every')}, oracle {st.get('oracle')}, space {st.get('space')}, "
                            f"seed {st.get('seed')}, {sim['seconds']:.0f} s")
        for p in self.plots.values():
            p.clear()
        self.legend.clear()
        for j, policy in enumerate(st.get("policies", [])):
            rows = [r for r in sim["rounds"] if r["policy"] == policy]
            xs = [r["round"] for r in rows]
            pen = pg.mkPen(COLOURS[j % len(COLOURS)], width=2)
            for key, p in self.plots.items():
                ys = [float("nan") if r["metrics"].get(key) is None else r["metrics"][key] for r in rows]
                p.plot(xs, ys, pen=pen, name=policy if key == "cumulative_utility" else None)
        ideal = [r for r in sim["rounds"] if r["metrics"].get("homogenisation_ideal") is not None]
        if ideal:      # one ideal run per simulation (every policy's rows carry its figure): the first policy's
            rows = [r for r in ideal if r["policy"] == ideal[0]["policy"]]
            self.plots["homogenisation"].plot([r["round"] for r in rows],
                                              [r["metrics"]["homogenisation_ideal"] for r in rows],
                                              pen=pg.mkPen("#888", width=2, style=Qt.PenStyle.DashLine))
        self.markers = []
        for p in self.plots.values():
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
            line.setVisible(False)
            p.addItem(line)
            self.markers.append(line)
        self.user.blockSignals(True)
        self.user.clear()
        first = next((r for r in sim["rounds"]), None)
        for u in (first["lists"].get("shown", {}) if first else {}):
            self.user.addItem(f"user #{u}", u)
        self.user.blockSignals(False)
        self._draw_frontier()
        self.select_round(int(st.get("rounds", 1)))

    def _draw_frontier(self) -> None:
        self.frontier.clear()
        sim = self.simulation
        if sim is None:
            return
        xkey = self.frontier_x.currentData()
        self.frontier.setLabel("bottom", FRONTIER_X[xkey])
        today, later = [], []
        for j, policy in enumerate(sim["settings"].get("policies", [])):
            rows = [r["metrics"] for r in sim["rounds"] if r["policy"] == policy]
            if not rows:
                continue
            colour = COLOURS[j % len(COLOURS)]
            first, last = rows[0], rows[-1]
            t = (first.get(xkey), first.get("utility"))
            lr = (last.get(xkey), (last.get("cumulative_utility") or 0.0) / len(rows))
            for point, filled in ((t, False), (lr, True)):
                if None in point:
                    continue
                self.frontier.plot([point[0]], [point[1]], pen=None, symbol="o", symbolSize=10,
                                   symbolPen=pg.mkPen(colour, width=2), symbolBrush=colour if filled else None)
            today.append(t)
            later.append(lr)
        for pts, style in ((today, Qt.PenStyle.DotLine), (later, Qt.PenStyle.SolidLine)):
            pts = sorted(p for p in pts if None not in p)
            if len(pts) > 1:
                self.frontier.plot([p[0] for p in pts], [p[1] for p in pts], pen=pg.mkPen("#999", style=style))

    def _clicked(self, event) -> None:
        for p in self.plots.values():
            if p.sceneBoundingRect().contains(event.scenePos()):
                x = p.vb.mapSceneToView(event.scenePos()).x()
                self.select_round(int(round(x)))
                return

    def select_round(self, rnd: int) -> None:
        if self.simulation is None:
            return
        rounds = int(self.simulation["settings"].get("rounds", 1))
        self.round = min(max(rnd, 1), rounds)
        for m in self.markers:
            m.setValue(self.round)
            m.setVisible(True)
        self._show_lists()

    def _show_lists(self) -> None:
        sim, user = self.simulation, self.user.currentData()
        if sim is None or self.round is None or user is None:
            return
        rows = [r for r in sim["rounds"] if r["round"] == self.round]
        self.round_label.setText(f"Round {self.round}: what user #{user} was shown (✔ chosen)")
        titles = sim.get("titles", {})
        k = max((len(r["lists"]["shown"].get(user, [])) for r in rows), default=0)
        self.lists.setColumnCount(len(rows))
        self.lists.setRowCount(k)
        self.lists.setHorizontalHeaderLabels([r["policy"] for r in rows])
        for c, r in enumerate(rows):
            chosen = r["lists"].get("chosen", {}).get(user)
            for i, item in enumerate(r["lists"]["shown"].get(user, [])):
                text = titles.get(item, titles.get(str(item), f"item {item}"))
                self.lists.setItem(i, c, QTableWidgetItem(("✔ " if item == chosen else "") + text))
        self.lists.resizeColumnsToContents()

    def is_complete(self) -> bool:
        """For the screenshot mode: a stored simulation is drawn (or there is none to draw)."""
        ds = self.state.dataset
        return (ds is not None and self.listed == ds.id and not self.loading
                and (self.simulation is not None or self.stored.count() == 0))


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    return s
