typedef int vaern_stub_calendar;
