"""How the archive's tables hold their data: the encodings below the write and read doors.

Codecs (:mod:`.varints`, :mod:`.bits`, :mod:`.compression`, :mod:`.noise_split`,
:mod:`.paragraphs`, :mod:`.spans`, :mod:`.fingerprint`) and the tables they fill
(:mod:`.bodies`, :mod:`.idlists`, :mod:`.texts`, :mod:`.outlinks`,
:mod:`.header_blocks`, :mod:`.header_sets`, :mod:`.distinct`). Their bytes are
on-disk formats: WARC digests, ``check`` and archives of every release rely on
them staying as they are.
"""
