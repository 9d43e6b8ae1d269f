typedef int vaern_stub_gate;
