"""The BitTorrent engine: one libtorrent session, how far it may reach, seeding and downloading one file.

Example::

    with Swarm(SwarmConfig(reach=Reach.LOCAL, port=6881), log=print) as swarm:   # swarm/engine.py
        swarm.seed(info_dict, Path("bundles/ab12....7z"))

Moves bytes only: which torrent to trust (the signed index's info hash) and what to do
with a finished file (the full verification of a bundle) are decided by the callers in
fetch/ and bundle/seeds.py. Only engine.py and download.py import libtorrent; settings.py
says, as plain values, what each reach turns on.
"""
