typedef int vaern_stub_server;
