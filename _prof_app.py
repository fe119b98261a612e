import sys, time, cProfile, pstats
sys.path.insert(0, "/tmp/profapp")
import profhub
src = open("/work/main/app.py").read()
code = compile(src, "/work/main/app.py", "exec")
profhub.runs += 1
t0 = time.thread_time()
if profhub.runs > 40:
    p = cProfile.Profile(time.thread_time)
    try:
        p.runctx("exec(code, {'__name__': '__main__', '__file__': '/work/main/app.py'})", {"code": code}, {})
    finally:
        profhub.cpu.append(time.thread_time() - t0)
        if profhub.prof is None:
            profhub.prof = pstats.Stats(p)
        else:
            profhub.prof.add(p)
        if profhub.runs % 50 == 0:
            profhub.prof.dump_stats("/tmp/app_script.prof")
            import statistics
            open("/tmp/app_script.txt", "w").write(f"runs {len(profhub.cpu)} median thread CPU {1e3*statistics.median(profhub.cpu):.1f} ms\n")
else:
    exec(code, {'__name__': '__main__', '__file__': '/work/main/app.py'})
