"""The feedback-loop simulator (issue 23): what a re-ranking policy does to a catalogue and its users
over rounds of recommending, choosing and retraining. Qt-free plain functions with progress and cancel.

oracle.py   true preferences (a model fitted on all interactions) and the choice model
space.py    item-item similarity of the chosen space, gathered for many lists at once
batched.py  MMR and DPP re-ranking of many users' candidates at once (numpy)
scoring.py  the system's scores for many users at once (sparse histories times the model; the LSTM
            from time-ordered histories)
metrics.py  per-round measures (utility, NDCG, coverage, Gini, popularity, ILD, homogenisation)
loop.py     the rounds: policies side by side on one random stream (and the ideal recommender), updates
            every R rounds
updates.py  how the system is updated: refit (the baselines), warm start (the LSTM, in memory), none
service.py  a stored run in, a stored simulation out (the one entry point of both front ends)
export.py   CSV / JSON of a stored simulation, with its settings in the file
"""
