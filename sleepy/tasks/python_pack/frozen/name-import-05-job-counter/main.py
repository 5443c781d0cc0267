pages_printed = 0


def run_job(job):
    name, pages, copies = job
    total = pages * copies
    pages_printed += total
    return f"{name}: {total} pages"


queue = [("report.pdf", 12, 2), ("flyer.png", 1, 50), ("notes.txt", 3, 1)]
receipts = [run_job(job) for job in queue]

assert receipts[1] == "flyer.png: 50 pages"
assert pages_printed == 77
assert len(receipts) == 3
