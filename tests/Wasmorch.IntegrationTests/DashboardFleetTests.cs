using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 34: the dashboard of one gateway of a fleet (a real nats-server, two gateways, emulated
/// boards) in Debian's headless chromium: counts by state and the label filter, a command run from
/// the page on another gateway's device, and that device's actions turned off once its gateway is lost.
/// </summary>
public sealed class DashboardFleetTests
{
    private static string Screenshots => Directory.CreateDirectory(Path.Combine(RepoPaths.Root, "build", "test-artifacts", "screenshots")).FullName;

    private static SystemUnderTest Member(NatsServer nats, string gateway, string board, bool http)
    {
        var system = new SystemUnderTest();
        system.StartBoard(board, 0);
        system.GatewayArgs.AddRange(["--nats", nats.Url, "--name", gateway, "--fleet", "lab", "--fleet-insecure"]);
        if (http)
        {
            system.GatewayArgs.AddRange(["--http", "127.0.0.1:0"]);
        }
        system.StartGateway();
        return system;
    }

    [Fact]
    public async Task A_fleet_gateways_dashboard_counts_filters_runs_a_command_on_another_gateways_device_and_turns_its_actions_off_when_that_gateway_is_lost()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "a1", http: true);
        await using var b = Member(nats, "gw-b", "b1", http: false);
        CliAssert.Exit(0, await b.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await a.CliAsync("--device", "a1", "status"));

        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu");
        using var browser = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(10));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        string Count(string key) => browser.FindElement(By.CssSelector($"#fleet-counts [data-count='{key}'] b")).Text;
        void Shot(string name) => browser.GetScreenshot().SaveAsFile(Path.Combine(Screenshots, name + ".png"));

        // No token on this gateway: the page starts at once, the whole fleet listed.
        browser.Navigate().GoToUrl($"http://{a.Http}/");
        wait.Until(d => d.FindElements(By.CssSelector("#devices tr[data-device]")).Count == 2);
        wait.Until(_ => (Count("connected"), Count("not connected"), Count("running"), Count("lost")) == ("2", "0", "0", "0"));

        // The filter by label: gw-b's devices only, and their counts.
        browser.FindElements(By.CssSelector("#label-filter option")).First(o => o.GetAttribute("value") == "gateway=gw-b").Click();
        wait.Until(d => d.FindElements(By.CssSelector("#devices tr[data-device]")).Select(r => r.GetAttribute("data-device")).SequenceEqual(["b1"]));
        Assert.Equal("1 of 2 device(s)", browser.FindElement(By.Id("fleet-shown")).Text);
        Assert.Equal("1", Count("connected"));
        Shot("fleet-filtered");

        // A command run from the page on gw-b's device: its outcome, and "Recent commands" follows.
        browser.Navigate().GoToUrl($"http://{a.Http}/#/device/b1");
        // Each step finds its element again: a devices read (every 5 s in a fleet) may redraw the form's selects.
        wait.Until(d => { d.FindElement(By.CssSelector("#start-form [name='func'] option[value='add']")).Click(); return true; });
        wait.Until(d => { d.FindElement(By.CssSelector("#start-form [name='args']")).SendKeys("2,3"); return true; });
        wait.Until(d => { d.FindElement(By.CssSelector("#start-form [name='wait']")).Click(); return true; });
        wait.Until(d => { d.FindElement(By.CssSelector("#start-form button")).Click(); return true; });
        wait.Until(d => d.FindElement(By.Id("outcome")).Text.EndsWith("OK value=5", StringComparison.Ordinal));
        var command = wait.Until(d => d.FindElements(By.CssSelector("#latency tr")).SingleOrDefault());
        Assert.StartsWith("start ok", command.Text, StringComparison.Ordinal);
        Assert.True(browser.FindElement(By.CssSelector("#start-form button")).Enabled);

        // gw-b goes away: the page finds its device lost and turns the device's actions off, saying why.
        await b.KillGatewayAsync();
        // (WebDriver calls a fieldset enabled whatever its `disabled`: the property is read, and the button it turns off.)
        new WebDriverWait(browser, TimeSpan.FromSeconds(40)).Until(d => (bool)((IJavaScriptExecutor)d).ExecuteScript("return document.getElementById('actions').disabled;")!);
        Assert.Equal("Its gateway (gw-b) is lost: actions are off until it answers again.", browser.FindElement(By.Id("actions-off")).Text);
        Assert.False(browser.FindElement(By.CssSelector("#start-form button")).Enabled);
        Shot("device-gateway-lost");
        browser.Navigate().GoToUrl($"http://{a.Http}/#/");
        new WebDriverWait(browser, TimeSpan.FromSeconds(40)).Until(_ => Count("lost") == "1");
        Shot("fleet-lost");
    }
}
